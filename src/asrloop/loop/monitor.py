"""Monitor production transcripts: phrases that spike against the training text, shaky spans.

A recogniser that lacks a new word writes it as known words ("bread sit"), so the word n-grams
of production transcripts are compared with the training text (``asrloop monitor``):

* ``expected`` = training count x (production n-grams / training n-grams) of that order;
* ``score`` = log((prod_count + k) / (expected + k)), ``k`` = ``smoothing``: a smoothed
  log-ratio that favours phrases the training text never or rarely had, and counts matter;
* an n-gram needs ``min_count`` production occurrences and a rate ``min_ratio`` above training.

Candidates are then taken best first; on equal scores, the one with fewer common training
words (rate >= ``common_rate``), then the longer one, so "bread sit" beats both "the bread sit"
and "bread". One is skipped when at least ``overlap`` of its occurrences share words with
occurrences of a phrase already taken: parts ("sit") and contexts ("the bread", "bread sit
deal") of a spike are not reported again.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from omegaconf import DictConfig

from asrloop.corpus.manifest import ManifestError, iter_corpus
from asrloop.text.normalize import words


@dataclass(frozen=True)
class Spike:
    """A production n-gram with its counts and spike score."""

    ngram: str
    n: int
    prod_count: int
    train_count: int
    expected: float
    score: float

    def to_dict(self) -> dict:
        return {**asdict(self), "expected": round(self.expected, 3), "score": round(self.score, 4)}


def _grams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _count(token_lists: Iterable[Sequence[str]], max_n: int) -> tuple[Counter, Counter]:
    counts, totals = Counter(), Counter()
    for tokens in token_lists:
        for n in range(1, max_n + 1):
            grams = _grams(tokens, n)
            counts.update(grams)
            totals[n] += len(grams)
    return counts, totals


def count_ngrams(texts: Iterable[str], max_n: int) -> tuple[Counter, Counter]:
    """Counts of word n-grams (1..max_n, within each text) keyed by tuple, and totals per order."""
    return _count((words(text) for text in texts), max_n)


def _score_all(
    prod: Counter, prod_totals: Counter, train: Counter, train_totals: Counter, smoothing: float
) -> list[Spike]:
    spikes = []
    for gram, count in prod.items():
        n = len(gram)
        scale = prod_totals[n] / train_totals[n] if train_totals[n] else 0.0
        expected = train[gram] * scale
        score = math.log((count + smoothing) / (expected + smoothing))
        spikes.append(Spike(" ".join(gram), n, count, train[gram], expected, score))
    return spikes


def _occurrences(texts: list[list[str]], grams: set[tuple[str, ...]], max_n: int) -> dict:
    """Where each wanted n-gram occurs: ``{gram: [(text index, word index), ...]}``."""
    where: dict[tuple[str, ...], list[tuple[int, int]]] = {gram: [] for gram in grams}
    for t, tokens in enumerate(texts):
        for n in range(1, max_n + 1):
            for i, gram in enumerate(_grams(tokens, n)):
                if gram in where:
                    where[gram].append((t, i))
    return where


def _take_distinct(
    ranked: list[Spike], texts: list[list[str]], max_n: int, overlap: float
) -> list[Spike]:
    """Keep, best first, the spikes whose occurrences are not mostly inside kept ones."""
    where = _occurrences(texts, {tuple(s.ngram.split()) for s in ranked}, max_n)
    covered: set[tuple[int, int]] = set()
    kept = []
    for spike in ranked:
        spots = [[(t, i + k) for k in range(spike.n)] for t, i in where[tuple(spike.ngram.split())]]
        shared = sum(any(spot in covered for spot in occ) for occ in spots)
        if shared >= overlap * len(spots):
            continue
        kept.append(spike)
        covered.update(spot for occ in spots for spot in occ)
    return kept


def rank_spikes(
    production_texts: Iterable[str],
    training_texts: Iterable[str],
    max_n: int = 3,
    min_count: int = 3,
    smoothing: float = 1.0,
    min_ratio: float = 2.0,
    overlap: float = 0.5,
    common_rate: float = 0.002,
) -> list[Spike]:
    """N-grams (1..max_n) whose production rate spikes against training, best first."""
    texts = [words(text) for text in production_texts]
    prod, prod_totals = _count(texts, max_n)
    train, train_totals = count_ngrams(training_texts, max_n)
    level = math.log(min_ratio)
    candidates = [
        spike
        for spike in _score_all(prod, prod_totals, train, train_totals, smoothing)
        if spike.prod_count >= min_count and spike.score >= level
    ]
    floor = common_rate * train_totals[1]
    common = {gram[0] for gram, count in train.items() if len(gram) == 1 and count >= floor}

    def n_common(spike: Spike) -> int:
        return sum(word in common for word in spike.ngram.split())

    candidates.sort(key=lambda s: (-s.score, n_common(s), -s.n, s.ngram))
    return _take_distinct(candidates, texts, max_n, overlap)


def _runs(flags: Sequence[bool]) -> Iterable[tuple[int, int]]:
    """(start, end) index ranges of consecutive True values."""
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            yield start, i
            start = None


def low_confidence_spans(transcripts: Iterable[Mapping], threshold: float) -> list[dict]:
    """Runs of consecutive words with confidence below ``threshold``, least confident first.

    Each span: ``{id, text, start, end, confidence (mean), n_words}``; words without a
    confidence are never low.
    """
    spans = []
    for row in transcripts:
        row_words = row.get("words") or []
        flags = [w.get("confidence") is not None and w["confidence"] < threshold for w in row_words]
        for first, last in _runs(flags):
            part = row_words[first:last]
            spans.append(
                {
                    "id": row.get("id"),
                    "text": " ".join(w["word"] for w in part),
                    "start": part[0].get("start"),
                    "end": part[-1].get("end"),
                    "confidence": round(sum(w["confidence"] for w in part) / len(part), 4),
                    "n_words": len(part),
                }
            )
    return sorted(spans, key=lambda s: (s["confidence"], str(s["id"]), s["start"] or 0))


# ---- the `asrloop monitor` step ------------------------------------------------------------


def transcripts_path(cfg: DictConfig) -> Path:
    return Path(cfg.transcribe.output)


def read_transcripts(path: str | Path) -> list[dict]:
    """Production transcripts (one row per clip, see ``asrloop transcribe``); needs id and text."""
    rows = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = [field for field in ("id", "text") if field not in row]
            if missing:
                raise ManifestError(f"{path}:{number}: missing field(s) {missing}")
            rows.append(row)
    return rows


def training_texts(cfg: DictConfig) -> list[str]:
    """Texts of every ``train`` row of the current corpus (base and grown shards)."""
    return [row["text"] for row in iter_corpus(cfg.paths.corpus, ["train"])]


def monitor_settings(cfg: DictConfig) -> dict:
    """rank_spikes keyword arguments from ``cfg.triage.monitor`` (absent ones keep defaults)."""
    section = cfg.triage.monitor
    names = ("max_n", "min_count", "smoothing", "min_ratio", "overlap", "common_rate")
    return {name: section[name] for name in names if section.get(name) is not None}


def _span_counts(spans: list[dict], top: int) -> list[dict]:
    counts = Counter(span["text"] for span in spans)
    return [{"text": text, "count": n} for text, n in counts.most_common(top)]


def _markdown(drop: str, spikes: list[Spike], spans: list[dict], top_k: int) -> str:
    lines = [
        f"# Monitor: {drop}",
        "",
        f"{len(spikes)} spiking n-grams; top {min(top_k, len(spikes))}:",
        "",
        "| rank | n-gram | production | training | expected | score |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for rank, s in enumerate(spikes[:top_k], start=1):
        lines.append(
            f"| {rank} | {s.ngram} | {s.prod_count} | {s.train_count} "
            f"| {s.expected:.2f} | {s.score:.2f} |"
        )
    lines += ["", f"{len(spans)} low-confidence spans; most frequent:", ""]
    lines += ["| span | count |", "|---|---:|"]
    lines += [f"| {row['text']} | {row['count']} |" for row in _span_counts(spans, top_k)]
    return "\n".join(lines) + "\n"


def _print_table(drop: str, spikes: list[Spike], top_k: int) -> None:
    from rich.table import Table

    from asrloop.progress import console

    table = Table(title=f"Spiking phrases in {drop}")
    for column in ("rank", "n-gram", "prod", "train", "score"):
        table.add_column(column, justify="left" if column == "n-gram" else "right")
    for rank, s in enumerate(spikes[:top_k], start=1):
        table.add_row(str(rank), s.ngram, str(s.prod_count), str(s.train_count), f"{s.score:.2f}")
    console.print(table)


def write_outputs(
    out_dir: Path, drop: str, spikes: list[Spike], spans: list[dict], top_k: int
) -> list[Path]:
    """spikes.json (the full ranked list), low_confidence.json and spikes.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "spikes.json": json.dumps([s.to_dict() for s in spikes], indent=1),
        "low_confidence.json": json.dumps(spans, indent=1),
        "spikes.md": _markdown(drop, spikes, spans, top_k),
    }
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
    return [out_dir / name for name in files]


def _log(
    mlflow,
    spikes: list[Spike],
    spans: list[dict],
    transcripts: list[dict],
    top_k: int,
    files: list[Path],
) -> None:
    confidences = [r["confidence"] for r in transcripts if r.get("confidence") is not None]
    mlflow.log_metrics(
        {
            "clips": len(transcripts),
            "spikes": len(spikes),
            "low_confidence_spans": len(spans),
            "mean_confidence": sum(confidences) / len(confidences) if confidences else 0.0,
            "top_spike_score": spikes[0].score if spikes else 0.0,
        }
    )
    top = [dict(rank=i, **s.to_dict()) for i, s in enumerate(spikes[:top_k], start=1)]
    if top:
        mlflow.log_table(
            {key: [row[key] for row in top] for key in top[0]}, "monitor/top_spikes.json"
        )
    for path in files:
        mlflow.log_artifact(str(path), "monitor")


def run(cfg: DictConfig) -> None:
    """``asrloop monitor``: rank spiking phrases of a drop's transcripts against training text."""
    from asrloop.tracking import step_run

    drop, section = cfg.scenario.drop.name, cfg.triage.monitor
    transcripts = read_transcripts(transcripts_path(cfg))
    spikes = rank_spikes(
        [row["text"] for row in transcripts], training_texts(cfg), **monitor_settings(cfg)
    )
    spans = low_confidence_spans(transcripts, float(section.confidence_threshold))
    out_dir = Path(cfg.paths.reports) / "monitor" / drop
    files = write_outputs(out_dir, drop, spikes, spans, int(section.top_k))
    with step_run(cfg, "monitor") as _:
        import mlflow

        _log(mlflow, spikes, spans, transcripts, int(section.top_k), files)
    _print_table(drop, spikes, int(section.top_k))
