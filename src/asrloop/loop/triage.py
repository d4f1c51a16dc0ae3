"""Triage production errors: choose clips, a review queue, and an error analysis of it.

``asrloop triage`` runs four stages; every analysis reads the queue *file*, so a queue that a
person edited and one the demo filled take the same path:

1. select review clips (never the drop's held-out clips): a uniform random sample (the
   unbiased error estimate), clips containing the top flagged phrases (round-robin over the
   phrases), the least confident clips; reproducible by seed;
2. write ``reports/triage/<drop>/queue.jsonl`` and ``queue.csv`` (``reference`` starts as the
   hypothesis, to be corrected; ``status`` pending / approved / rejected). Rows a person
   already approved or rejected are kept as they are when triage is re-run; whichever of the
   two files was edited last is read;
3. demo only (``triage.auto_approve``): the drop's hidden references play the reviewer;
4. analysis of approved rows: confusions with splits and merges as one error (see
   :mod:`asrloop.loop.align`), insertions, deletions, out-of-vocabulary words, WER per voice,
   and the WER of the random sample with a bootstrap 95% interval; ``triage.json`` and a
   Markdown/HTML report with plots, all logged to MLflow.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from asrloop.corpus.manifest import write_manifest
from asrloop.corpus.plan import is_holdout
from asrloop.loop import align
from asrloop.metrics import cer, error_counts, group_wer, wer
from asrloop.text.normalize import words

STATUSES = ("pending", "approved", "rejected")
DECIDED = ("approved", "rejected")
QUEUE_FIELDS = (
    "id",
    "status",
    "reason",
    "hypothesis",
    "reference",
    "voice",
    "confidence",
    "audio_filepath",
    "reviewer",
)
RANDOM = "random"
DEMO_REVIEWER = "demo:references"


# ---- 1. selection --------------------------------------------------------------------------


def _ngram_of(spike) -> str:
    return spike["ngram"] if isinstance(spike, Mapping) else spike.ngram


def _contains(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == tuple(phrase) for i in range(len(tokens) - n + 1))


def _flagged(
    pool: list[dict], phrases: list[str], taken: set, quota: int, rng: random.Random
) -> list[tuple[dict, str]]:
    """Up to ``quota`` clips containing the phrases, taken round-robin in phrase rank order."""
    tokens = {row["id"]: words(row.get("text", "")) for row in pool}
    queues = []
    for phrase in phrases:
        hits = [row for row in pool if _contains(tokens[row["id"]], phrase.split())]
        rng.shuffle(hits)
        queues.append((phrase, hits))
    picked: list[tuple[dict, str]] = []
    while len(picked) < quota and any(hits for _, hits in queues):
        for phrase, hits in queues:
            while hits and hits[0]["id"] in taken:
                hits.pop(0)
            if hits and len(picked) < quota:
                row = hits.pop(0)
                taken.add(row["id"])
                picked.append((row, f"flagged: {phrase}"))
    return picked


def _confidence(row: Mapping) -> float:
    value = row.get("confidence")
    return 1.0 if value is None else float(value)


def select_clips(
    transcripts: Iterable[Mapping],
    spikes: Sequence,
    cfg_triage: Mapping,
    holdout_share: float,
    seed: int,
) -> list[dict]:
    """Review clips with the reason each was chosen (the queue's rows, before review).

    Only clips outside the drop's held-out part (``is_holdout(id, holdout_share, seed)``) are
    eligible. Quotas from ``cfg_triage``: ``random`` (drawn first, from the whole review pool),
    ``flagged`` (clips with one of the ``top_phrases`` first spikes), ``least_confident``.
    Sampling uses ``cfg_triage.seed`` (default: ``seed``); the same inputs give the same list.
    """
    pool = sorted(
        (dict(row) for row in transcripts if not is_holdout(row["id"], holdout_share, seed)),
        key=lambda row: row["id"],
    )
    rng = random.Random(f"{cfg_triage.get('seed', seed)}-triage")
    chosen = [(row, RANDOM) for row in rng.sample(pool, min(int(cfg_triage["random"]), len(pool)))]
    taken = {row["id"] for row, _ in chosen}
    phrases = [_ngram_of(spike) for spike in spikes[: int(cfg_triage["top_phrases"])]]
    chosen += _flagged(pool, phrases, taken, int(cfg_triage["flagged"]), rng)
    rest = sorted(
        (row for row in pool if row["id"] not in taken), key=lambda r: (_confidence(r), r["id"])
    )
    chosen += [
        (row, f"least confident ({_confidence(row):.2f})")
        for row in rest[: int(cfg_triage["least_confident"])]
    ]
    return [_selection(row, reason) for row, reason in chosen]


def _selection(row: Mapping, reason: str) -> dict:
    return {
        "id": row["id"],
        "audio_filepath": str(row.get("audio_filepath", "")),
        "hypothesis": row.get("text", ""),
        "voice": row.get("voice", ""),
        "confidence": row.get("confidence"),
        "reason": reason,
    }


# ---- 2. the review queue -------------------------------------------------------------------


def merge_queue(existing: Iterable[Mapping], selections: Iterable[Mapping]) -> list[dict]:
    """The queue for ``selections``, keeping every row a person already approved or rejected.

    A pending row that is selected again keeps its (possibly edited) reference; pending rows
    no longer selected are dropped; new rows start with the hypothesis as reference.
    """
    old = {row["id"]: dict(row) for row in existing}
    queue, seen = [], set()
    for sel in selections:
        seen.add(sel["id"])
        previous = old.get(sel["id"])
        if previous and previous["status"] in DECIDED:
            queue.append(previous)
            continue
        reference = previous["reference"] if previous else sel["hypothesis"]
        queue.append({**sel, "reference": reference, "status": "pending", "reviewer": ""})
    queue += [row for rid, row in old.items() if rid not in seen and row["status"] in DECIDED]
    return queue


def queue_paths(folder: str | Path) -> tuple[Path, Path]:
    folder = Path(folder)
    return folder / "queue.jsonl", folder / "queue.csv"


def write_queue(folder: str | Path, rows: Iterable[Mapping]) -> tuple[Path, Path]:
    """Write the queue as JSON lines and CSV (same content, same modification time)."""
    jsonl, csv_path = queue_paths(folder)
    rows = [{field: row.get(field, "") for field in QUEUE_FIELDS} for row in rows]
    write_manifest(jsonl, rows)
    tmp = csv_path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=QUEUE_FIELDS)
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    os.replace(tmp, csv_path)
    stamp = jsonl.stat().st_mtime_ns
    os.utime(csv_path, ns=(stamp, stamp))
    return jsonl, csv_path


def _clean(row: Mapping, where: str) -> dict:
    """A queue row with known fields, a valid status and a float (or None) confidence."""
    out = {field: row.get(field) if row.get(field) is not None else "" for field in QUEUE_FIELDS}
    out["status"] = str(out["status"]).strip().lower() or "pending"
    if out["status"] not in STATUSES:
        raise ValueError(f"{where}: clip {out['id']}: status {out['status']!r} not in {STATUSES}")
    confidence = out["confidence"]
    out["confidence"] = float(confidence) if confidence not in ("", None) else None
    return out


def read_queue(folder: str | Path) -> list[dict]:
    """The queue as a person left it: the CSV if it was edited after the JSON lines, else those."""
    jsonl, csv_path = queue_paths(folder)
    if csv_path.exists() and (
        not jsonl.exists() or csv_path.stat().st_mtime_ns > jsonl.stat().st_mtime_ns
    ):
        with csv_path.open(encoding="utf-8", newline="") as handle:
            return [_clean(row, str(csv_path)) for row in csv.DictReader(handle)]
    if not jsonl.exists():
        return []
    with jsonl.open(encoding="utf-8") as handle:
        return [_clean(json.loads(line), str(jsonl)) for line in handle if line.strip()]


def read_references(path: str | Path) -> dict[str, str]:
    """A drop's hidden references: ``{clip id: text}``."""
    with Path(path).open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {row["id"]: row["text"] for row in rows}


def fill_queue_from_references(
    queue: Iterable[Mapping], references: Mapping[str, str | Mapping]
) -> list[dict]:
    """The demo's reviewer: pending rows get the hidden reference and are approved.

    Rows a person already approved or rejected, and clips without a reference, are unchanged.
    """
    filled = []
    for row in queue:
        row = dict(row)
        ref = references.get(row["id"])
        if row["status"] == "pending" and ref is not None:
            text = ref["text"] if isinstance(ref, Mapping) else ref
            row.update(reference=text, status="approved", reviewer=DEMO_REVIEWER)
        filled.append(row)
    return filled


# ---- 3. analysis ---------------------------------------------------------------------------


def _is_random(row: Mapping) -> bool:
    return RANDOM in [part.strip() for part in str(row.get("reason", "")).split(";")]


def bootstrap_wer(refs: Sequence[str], hyps: Sequence[str], n_boot: int, seed: int) -> dict:
    """Corpus WER with a 95% percentile interval from resampling clips: ``{wer, low, high, n}``."""
    if not refs:
        return {"wer": None, "low": None, "high": None, "n": 0}
    counts = [error_counts(r, h) for r, h in zip(refs, hyps, strict=True)]
    errors = np.array([c["errors"] for c in counts], dtype=float)
    lengths = np.array([c["ref_words"] for c in counts], dtype=float)
    point = wer(refs, hyps)
    if n_boot <= 0:
        return {"wer": point, "low": point, "high": point, "n": len(refs)}
    idx = np.random.default_rng(seed).integers(0, len(refs), size=(n_boot, len(refs)))
    samples = errors[idx].sum(axis=1) / np.maximum(lengths[idx].sum(axis=1), 1.0)
    low, high = np.percentile(samples, [2.5, 97.5])
    return {"wer": point, "low": float(low), "high": float(high), "n": len(refs)}


def oov_words(rows: Iterable[Mapping], vocabulary: set[str], max_examples: int = 5) -> list[dict]:
    """Reference words absent from the training vocabulary: ``{word, count, examples}``."""
    counts: Counter = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        for word in words(row["reference"]):
            if word in vocabulary:
                continue
            counts[word] += 1
            if row["id"] not in examples[word] and len(examples[word]) < max_examples:
                examples[word].append(row["id"])
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"word": w, "count": n, "examples": examples[w]} for w, n in ranked]


def analyze(
    queue: Sequence[Mapping],
    vocabulary: set[str],
    bootstrap: int = 1000,
    seed: int = 0,
    similarity: float = 0.5,
    max_examples: int = 5,
) -> dict:
    """The error analysis of the approved rows of a queue (rejected and pending rows ignored)."""
    approved = [row for row in queue if row["status"] == "approved"]
    refs = [row["reference"] for row in approved]
    hyps = [row["hypothesis"] for row in approved]
    aligned = align.summarize(
        ((row["id"], row["reference"], row["hypothesis"]) for row in approved),
        max_examples=max_examples,
        similarity=similarity,
    )
    sample = [row for row in approved if _is_random(row)]
    return {
        "queue": dict(Counter(row["status"] for row in queue)),
        "overall": {
            "clips": len(approved),
            "wer": wer(refs, hyps),
            "cer": cer(refs, hyps),
            "aligned_error_rate": aligned["counts"]["error_rate"],
        },
        "confusions": aligned["confusions"],
        "insertions": aligned["insertions"],
        "deletions": aligned["deletions"],
        "alignment": aligned["counts"],
        "oov": oov_words(approved, vocabulary, max_examples),
        "per_voice": group_wer(approved, "voice", ref_field="reference", hyp_field="hypothesis"),
        "sampled_wer": bootstrap_wer(
            [row["reference"] for row in sample],
            [row["hypothesis"] for row in sample],
            bootstrap,
            seed,
        ),
    }


# ---- 4. reports ----------------------------------------------------------------------------


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def _interval(sampled: Mapping) -> str:
    if sampled["wer"] is None:
        return "n/a (no approved random-sample clips)"
    return f"{sampled['wer']:.3f} [{sampled['low']:.3f}, {sampled['high']:.3f}], n={sampled['n']}"


def _sections(result: Mapping, top: int) -> list[tuple[str, list[str], list[list]]]:
    """Report sections as (title, header, rows), rendered to both Markdown and HTML."""
    overall = result["overall"]
    summary = [
        ["queue rows", ", ".join(f"{k}: {v}" for k, v in sorted(result["queue"].items()))],
        ["approved clips", overall["clips"]],
        ["WER (approved)", overall["wer"]],
        ["CER (approved)", overall["cer"]],
        ["error rate, splits/merges as one error", overall["aligned_error_rate"]],
        ["sampled WER [95% CI] (random sample)", _interval(result["sampled_wer"])],
    ]
    return [
        ("Summary", ["measure", "value"], summary),
        (
            "Top confusions",
            ["reference", "hypothesis", "kind", "count", "example clips"],
            [
                [c["ref"], c["hyp"], c["op"], c["count"], c["examples"]]
                for c in result["confusions"][:top]
            ],
        ),
        (
            "Out-of-vocabulary words",
            ["word", "count", "example clips"],
            [[o["word"], o["count"], o["examples"]] for o in result["oov"][:top]],
        ),
        (
            "Insertions",
            ["word", "count", "example clips"],
            [[i["word"], i["count"], i["examples"]] for i in result["insertions"][:top]],
        ),
        (
            "Deletions",
            ["word", "count", "example clips"],
            [[d["word"], d["count"], d["examples"]] for d in result["deletions"][:top]],
        ),
        (
            "WER by voice",
            ["voice", "WER", "clips", "words"],
            [[v, s["wer"], s["clips"], s["words"]] for v, s in result["per_voice"].items()],
        ),
    ]


def _markdown(title: str, sections, images: Sequence[str]) -> str:
    lines = [f"# {title}", ""]
    for name, header, rows in sections:
        lines += [f"## {name}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
        lines.append("")
    lines += [f"![{image}]({image})" for image in images]
    return "\n".join(lines) + "\n"


def _html(title: str, sections, images: Sequence[str]) -> str:
    from html import escape

    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    for name, header, rows in sections:
        parts.append(
            f"<h2>{escape(name)}</h2><table><tr>"
            + "".join(f"<th>{escape(h)}</th>" for h in header)
            + "</tr>"
        )
        parts += [
            "<tr>" + "".join(f"<td>{escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows
        ]
        parts.append("</table>")
    parts += [f"<p><img src='{escape(image)}' alt='{escape(image)}'></p>" for image in images]
    return "\n".join([*parts, "</body></html>"]) + "\n"


def _bar_chart(labels: list[str], values: list[float], title: str, xlabel: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(8, 0.4 * max(len(labels), 3) + 1.2))
    ax.barh(labels[::-1], values[::-1], color="#4c72b0")
    ax.set_title(title if labels else f"{title} (none)")
    ax.set_xlabel(xlabel)
    if xlabel == "count":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plots(result: Mapping, out_dir: Path, top: int) -> list[Path]:
    top_confusions = result["confusions"][:top]
    voices = result["per_voice"]
    return [
        _bar_chart(
            [f"{c['ref']} → {c['hyp']}" for c in top_confusions],
            [c["count"] for c in top_confusions],
            "Top confusions",
            "count",
            out_dir / "confusions.png",
        ),
        _bar_chart(
            list(voices),
            [v["wer"] for v in voices.values()],
            "WER by voice",
            "WER",
            out_dir / "wer_by_voice.png",
        ),
    ]


def write_report(result: Mapping, out_dir: str | Path, title: str, top: int = 20) -> list[Path]:
    """triage.json, report.md, report.html and the two PNG plots; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "triage.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    images = _plots(result, out_dir, top)
    sections = _sections(result, top)
    names = [image.name for image in images]
    (out_dir / "report.md").write_text(_markdown(title, sections, names), encoding="utf-8")
    (out_dir / "report.html").write_text(_html(title, sections, names), encoding="utf-8")
    return [out_dir / "triage.json", out_dir / "report.md", out_dir / "report.html", *images]


def analyze_queue(
    folder: str | Path, vocabulary: set[str], settings: Mapping, title: str = "Triage report"
) -> tuple[dict, list[Path]]:
    """Read the queue file in ``folder``, analyse it, write the reports beside it."""
    result = analyze(
        read_queue(folder),
        vocabulary,
        bootstrap=int(settings.get("bootstrap", 1000)),
        seed=int(settings.get("seed", 0)),
        similarity=float(settings.get("split_merge_similarity", 0.5)),
        max_examples=int(settings.get("max_examples", 5)),
    )
    return result, write_report(result, folder, title, int(settings.get("report_top", 20)))


# ---- the `asrloop triage` step -------------------------------------------------------------


def _spikes(cfg: DictConfig, transcripts: list[dict], train_texts: list[str]) -> list:
    """The monitor's ranked spikes; recomputed when ``asrloop monitor`` has not run."""
    from asrloop.loop import monitor

    path = Path(cfg.paths.reports) / "monitor" / cfg.scenario.drop.name / "spikes.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    texts = [row["text"] for row in transcripts]
    return monitor.rank_spikes(texts, train_texts, **monitor.monitor_settings(cfg))


def _log(mlflow, result: Mapping, files: Iterable[Path]) -> None:
    sampled = result["sampled_wer"]
    metrics = {
        "approved": result["overall"]["clips"],
        "wer_approved": result["overall"]["wer"],
        "aligned_error_rate": result["overall"]["aligned_error_rate"],
        "confusion_pairs": len(result["confusions"]),
        "oov_words": len(result["oov"]),
    }
    if sampled["wer"] is not None:
        metrics.update(
            sampled_wer=sampled["wer"],
            sampled_wer_low=sampled["low"],
            sampled_wer_high=sampled["high"],
            sampled_n=sampled["n"],
        )
    mlflow.log_metrics(metrics)
    confusions = result["confusions"]
    if confusions:
        mlflow.log_table(
            {k: [c[k] for c in confusions] for k in ("ref", "hyp", "op", "count")},
            "triage/confusions.json",
        )
    for path in files:
        mlflow.log_artifact(str(path), "triage")


def _print_summary(result: Mapping, top: int = 10) -> None:
    from rich.table import Table

    from asrloop.progress import console

    table = Table(title="Top confusions (approved clips)")
    for column in ("reference", "hypothesis", "kind", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for row in result["confusions"][:top]:
        table.add_row(row["ref"], row["hyp"], row["op"], str(row["count"]))
    console.print(table)
    console.print(f"sampled WER [95% CI]: {_interval(result['sampled_wer'])}")


def _outside_holdout(rows: list[dict], share: float, seed: int) -> list[dict]:
    """Queue rows of review clips; rows of held-out clips (after a config change) are removed."""
    from asrloop.progress import console

    kept = [row for row in rows if not is_holdout(row["id"], share, seed)]
    if len(kept) < len(rows):
        console.print(
            f"[yellow]triage: removed {len(rows) - len(kept)} held-out clips from the queue"
        )
    return kept


def run(cfg: DictConfig) -> None:
    """``asrloop triage``: select clips → queue → (demo) fill from references → analysis."""
    from asrloop.loop.monitor import read_transcripts, training_texts, transcripts_path
    from asrloop.tracking import step_run

    drop, settings = cfg.scenario.drop, cfg.triage
    transcripts = read_transcripts(transcripts_path(cfg))
    train_texts = training_texts(cfg)
    selections = select_clips(
        transcripts,
        _spikes(cfg, transcripts, train_texts),
        settings,
        float(drop.holdout_share),
        int(drop.seed),
    )
    folder = Path(cfg.paths.reports) / "triage" / drop.name
    existing = _outside_holdout(read_queue(folder), float(drop.holdout_share), int(drop.seed))
    write_queue(folder, merge_queue(existing, selections))
    if settings.get("auto_approve"):
        references = read_references(Path(cfg.paths.references) / f"{drop.name}.jsonl")
        write_queue(folder, fill_queue_from_references(read_queue(folder), references))
    vocabulary = {word for text in train_texts for word in words(text)}
    with step_run(cfg, "triage"):
        import mlflow

        result, files = analyze_queue(folder, vocabulary, settings, f"Triage: {drop.name}")
        _log(mlflow, result, [*files, *queue_paths(folder)])
    _print_summary(result)
