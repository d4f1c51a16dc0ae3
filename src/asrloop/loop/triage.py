"""Triage production errors: choose clips, a review queue, and an error analysis of it.

``asrloop triage`` runs four stages; every analysis reads the queue *file*, so a queue that a
person edited and one the demo filled take the same path:

1. select review clips (never the drop's held-out clips) in review order, by
   ``triage.selection.strategy`` (:mod:`asrloop.loop.selection`; by default a uniform random
   sample (the unbiased error estimate), clips containing the top flagged phrases, the least
   confident clips); each row says why it was chosen and its rank; reproducible by seed;
2. write ``data/reviews/<drop>/queue.jsonl`` and ``queue.csv``
   (:mod:`asrloop.loop.review_queue`: ``reference`` starts as the hypothesis, to be corrected;
   ``status`` pending / approved / rejected). Rows a person already approved or rejected are
   kept as they are when triage is re-run;
3. demo and benchmarks (``triage.auto_approve``): the simulated reviewer
   (:mod:`asrloop.loop.reviewer`) answers rows in rank order with the drop's hidden
   references, within ``triage.reviewer``'s budget;
4. analysis of approved rows: confusions with splits and merges as one error (see
   :mod:`asrloop.loop.align`), insertions, deletions, out-of-vocabulary words, WER per voice,
   recall of each emerging term, and the WER of the random sample with a bootstrap 95%
   interval; ``triage.json`` and a Markdown/HTML report with plots, all logged to MLflow. The
   HTML report embeds its plots and the example clips (play buttons beside every example), so
   it reads the same from MLflow's artifact view.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from asrloop.artifacts import CONFUSIONS_ARTIFACT, TRIAGE_RESULT
from asrloop.corpus.drop import Drop
from asrloop.faults import fault_point
from asrloop.inference.transcript import Transcript
from asrloop.loop import align
from asrloop.loop.monitor import rank_spikes
from asrloop.loop.review_queue import ReviewItem, merge_queue, read_queue, write_queue
from asrloop.loop.reviewer import review_effort, simulate_review
from asrloop.loop.selection import Phrases, contains, rank_pool
from asrloop.metrics import cer, group_wer, utterance_errors, wer
from asrloop.records import SampledWer, SpikeReport, TriageOverall, TriageResult
from asrloop.report_render import Clip, ClipIds, Report, Section, bar_chart, write_report
from asrloop.scoring import term_scores_with_intervals
from asrloop.settings.triage import MonitorSettings, TriageSettings
from asrloop.stats.bootstrap import rate_interval
from asrloop.text.normalize import normalize_text, words

# ---- 1. selection --------------------------------------------------------------------------


def select_clips(
    transcripts: Iterable[Transcript],
    phrases: Phrases,
    settings: TriageSettings,
    drop: Drop,
) -> list[ReviewItem]:
    """Review clips in review order, each with the reason it was chosen and its rank (the
    queue's rows, before review): ``settings.selection`` picks the strategy
    (:mod:`asrloop.loop.selection`); ``phrases`` are the monitor's top spikes (weighted). Only clips
    outside the drop's held-out part are eligible; the same inputs give the same list."""
    pool = [t for t in transcripts if not drop.is_holdout(t.id)]
    picks = rank_pool(pool, phrases, settings)
    return [
        ReviewItem.from_transcript(pick.transcript, pick.reason, rank=rank)
        for rank, pick in enumerate(picks, 1)
    ]


# ---- 2. analysis ---------------------------------------------------------------------------


def bootstrap_wer(refs: Sequence[str], hyps: Sequence[str], n_boot: int, seed: int) -> SampledWer:
    """Corpus WER with a 95% percentile interval from resampling clips."""
    if not refs:
        return SampledWer(None, None, None, 0)
    point = wer(refs, hyps)
    if n_boot <= 0:
        return SampledWer(point, point, point, len(refs))
    errors, words = utterance_errors(refs, hyps)
    interval = rate_interval(errors, words, 0.95, n_boot, seed)
    return SampledWer(point, interval.low, interval.high, len(refs))


def oov_words(items: Iterable[ReviewItem], vocabulary: set[str], max_examples: int) -> list[dict]:
    """Reference words absent from the training vocabulary: ``{word, count, examples}``."""
    counts: Counter = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for item in items:
        for word in words(item.reference):
            if word in vocabulary:
                continue
            counts[word] += 1
            if item.id not in examples[word] and len(examples[word]) < max_examples:
                examples[word].append(item.id)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return [{"word": w, "count": n, "examples": examples[w]} for w, n in ranked]


def term_examples(items: Sequence[ReviewItem], term: str, limit: int) -> list[str]:
    """Clips whose reference says ``term`` (the ones to listen to for it)."""
    phrase = normalize_text(term).split()
    return [item.id for item in items if contains(words(item.reference), phrase)][:limit]


def analyze(
    queue: Sequence[ReviewItem],
    vocabulary: set[str],
    settings: TriageSettings,
    terms: Sequence[str] = (),
) -> TriageResult:
    """The error analysis of the approved rows of a queue (rejected and pending rows ignored);
    ``terms`` (the scenario's emerging terms) get recall and precision."""
    approved = [item for item in queue if item.approved]
    refs = [item.reference for item in approved]
    hyps = [item.hypothesis for item in approved]
    aligned = align.summarize(
        ((item.id, item.reference, item.hypothesis) for item in approved),
        max_examples=settings.max_examples,
        similarity=settings.split_merge_similarity,
    )
    sample = [item for item in approved if item.in_random_sample]
    per_voice = group_wer((i.voice, i.reference, i.hypothesis) for i in approved)
    per_term = {
        term: {**asdict(scores), "examples": term_examples(approved, term, settings.max_examples)}
        for term, scores in term_scores_with_intervals(refs, hyps, terms).items()
    }
    return TriageResult(
        queue=dict(Counter(item.status for item in queue)),
        overall=TriageOverall(
            clips=len(approved),
            wer=wer(refs, hyps),
            cer=cer(refs, hyps),
            aligned_error_rate=aligned["counts"]["error_rate"],
        ),
        confusions=aligned["confusions"],
        insertions=aligned["insertions"],
        deletions=aligned["deletions"],
        alignment=aligned["counts"],
        oov=oov_words(approved, vocabulary, settings.max_examples),
        per_voice=dict(per_voice),
        per_term=per_term,
        effort=review_effort(
            queue, settings.selection.strategy, settings.reviewer.decision_seconds
        ),
        sampled_wer=bootstrap_wer(
            [item.reference for item in sample],
            [item.hypothesis for item in sample],
            settings.bootstrap,
            settings.seed,
        ),
    )


# ---- 3. reports ----------------------------------------------------------------------------


def _recall_span(interval: dict | None) -> str:
    return f"{interval['low']:.2f}-{interval['high']:.2f}" if interval else "-"


def _interval(sampled: SampledWer) -> str:
    if sampled.wer is None:
        return "n/a (no approved random-sample clips)"
    return f"{sampled.wer:.3f} [{sampled.low:.3f}, {sampled.high:.3f}], n={sampled.n}"


def triage_report(
    result: TriageResult,
    title: str,
    top: int,
    images: Sequence[str],
    clips: Sequence[Clip] = (),
) -> Report:
    """The report's sections, rendered to both Markdown and HTML; ``clips`` can be heard."""
    overall = result.overall
    summary = [
        ["queue rows", ", ".join(f"{k}: {v}" for k, v in sorted(result.queue.items()))],
        ["approved clips", overall.clips],
        ["WER (approved)", overall.wer],
        ["CER (approved)", overall.cer],
        ["error rate, splits/merges as one error", overall.aligned_error_rate],
        ["sampled WER [95% CI] (random sample)", _interval(result.sampled_wer)],
    ]
    words_header = ["word", "count", "example clips"]

    def listed(entries: Sequence[Mapping]) -> list[list]:
        return [[e["word"], e["count"], ClipIds(e["examples"])] for e in entries[:top]]

    return Report(
        title,
        [
            Section("Summary", ["measure", "value"], summary),
            Section(
                "Emerging terms",
                [
                    "term",
                    "said",
                    "heard right",
                    "missed",
                    "written wrongly",
                    "recall",
                    "recall 95 % interval",
                    "examples",
                ],
                [
                    [
                        t,
                        s["support"],
                        s["tp"],
                        s["fn"],
                        s["fp"],
                        s["recall"],
                        _recall_span(s.get("recall_interval")),
                        ClipIds(s["examples"]),
                    ]
                    for t, s in result.per_term.items()
                ],
                note="How often the approved clips say each term, and how often the model wrote "
                "it.",
            ),
            Section(
                "Top confusions",
                ["reference", "hypothesis", "kind", "count", "example clips"],
                [
                    [c["ref"], c["hyp"], c["op"], c["count"], ClipIds(c["examples"])]
                    for c in result.confusions[:top]
                ],
            ),
            Section("Out-of-vocabulary words", words_header, listed(result.oov)),
            Section("Insertions", words_header, listed(result.insertions)),
            Section("Deletions", words_header, listed(result.deletions)),
            Section(
                "WER by voice",
                ["voice", "WER", "clips", "words"],
                [[v, s.wer, s.clips, s.words] for v, s in result.per_voice.items()],
            ),
        ],
        images,
        clips,
    )


def example_clips(
    result: TriageResult, items: Iterable[ReviewItem], top: int, root: Path = Path(".")
) -> list[Clip]:
    """The clips the report's tables name, with audio to hear (relative paths start at the
    project ``root``; missing files are left out)."""
    named: dict[str, None] = {}
    for entries in (result.confusions, result.oov, result.insertions, result.deletions):
        for entry in entries[:top]:
            named.update(dict.fromkeys(entry["examples"]))
    for scores in result.per_term.values():
        named.update(dict.fromkeys(scores["examples"]))
    by_id = {item.id: item for item in items}
    return [
        Clip(clip, root / item.audio_filepath, item.reference, item.hypothesis, item.voice)
        for clip in named
        if (item := by_id.get(clip))
        and item.audio_filepath
        and (root / item.audio_filepath).is_file()
    ]


def _plots(result: TriageResult, out_dir: Path, top: int) -> list[Path]:
    top_confusions = result.confusions[:top]
    voices = result.per_voice
    terms = result.per_term
    return [
        bar_chart(
            [f"{c['ref']} → {c['hyp']}" for c in top_confusions],
            [c["count"] for c in top_confusions],
            "Top confusions",
            "count",
            out_dir / "confusions.png",
        ),
        bar_chart(
            [f"{term} (said {s['support']})" for term, s in terms.items()],
            [s["recall"] for s in terms.values()],
            "Recall of each emerging term (approved clips)",
            "recall",
            out_dir / "recall_by_term.png",
        ),
        bar_chart(
            list(voices),
            [v.wer for v in voices.values()],
            "WER by voice",
            "WER",
            out_dir / "wer_by_voice.png",
        ),
    ]


def write_analysis(
    result: TriageResult, out_dir: str | Path, title: str, top: int, clips: Sequence[Clip] = ()
) -> list[Path]:
    """triage.json, report.md, report.html (plots and ``clips`` embedded) and the PNG plots;
    returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = result.write(out_dir / TRIAGE_RESULT)
    images = _plots(result, out_dir, top)
    report = triage_report(result, title, top, [image.name for image in images], clips)
    return [data, *write_report(report, out_dir), *images]


def analyze_queue(
    queue: Path,
    out_dir: Path,
    vocabulary: set[str],
    settings: TriageSettings,
    title: str,
    terms: Sequence[str] = (),
    root: Path = Path("."),
) -> tuple[TriageResult, list[Path]]:
    """Read the queue in folder ``queue``, analyse it, write the reports to ``out_dir``
    (relative audio paths start at ``root``)."""
    items = read_queue(queue)
    result = analyze(items, vocabulary, settings, terms)
    clips = example_clips(result, items, settings.report_top, Path(root))
    return result, write_analysis(result, out_dir, title, settings.report_top, clips)


# ---- logging ----------------------------------------------------------------------------------


def log_triage(mlflow, result: TriageResult, files: Iterable[Path]) -> None:
    """The analysis's metrics, its confusions as a table, and its files (under ``triage/``)."""
    sampled = result.sampled_wer
    metrics = {
        "approved": result.overall.clips,
        "wer_approved": result.overall.wer,
        "aligned_error_rate": result.overall.aligned_error_rate,
        "confusion_pairs": len(result.confusions),
        "oov_words": len(result.oov),
    }
    if sampled.wer is not None:
        metrics.update(
            sampled_wer=sampled.wer,
            sampled_wer_low=sampled.low,
            sampled_wer_high=sampled.high,
            sampled_n=sampled.n,
        )
    if result.effort is not None:
        metrics.update(review_rows=result.effort.decided, review_minutes=result.effort.minutes)
    mlflow.log_metrics(metrics)
    if result.effort is not None:
        mlflow.set_tag("triage.selection", result.effort.strategy)
    confusions = result.confusions
    if confusions:
        mlflow.log_table(
            {k: [c[k] for c in confusions] for k in ("ref", "hyp", "op", "count")},
            CONFUSIONS_ARTIFACT,
        )
    for path in files:
        mlflow.log_artifact(str(path), "triage")


def print_summary(result: TriageResult, top: int = 10) -> None:
    from rich.table import Table

    from asrloop.progress import console

    table = Table(title="Top confusions (approved clips)")
    for column in ("reference", "hypothesis", "kind", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for c in result.confusions[:top]:
        table.add_row(c["ref"], c["hyp"], c["op"], str(c["count"]))
    console.print(table)
    console.print(f"sampled WER [95% CI]: {_interval(result.sampled_wer)}")
    if result.effort is not None:
        effort = result.effort
        console.print(
            f"review ({effort.strategy}): {effort.decided} rows decided, "
            f"{effort.minutes:.1f} review minutes (audio + {effort.decision_seconds:g} s a "
            f"decision), {effort.pending} pending"
        )


def outside_holdout(items: list[ReviewItem], drop: Drop) -> list[ReviewItem]:
    """Queue rows of review clips; rows of held-out clips (after a config change) are removed."""
    from asrloop.progress import console

    kept = [item for item in items if not drop.is_holdout(item.id)]
    if len(kept) < len(items):
        console.print(
            f"[yellow]triage: removed {len(items) - len(kept)} held-out clips from the queue"
        )
    return kept


def triage_drop(
    transcripts: list[Transcript],
    phrases: Phrases,
    drop: Drop,
    settings: TriageSettings,
    folder: Path,
) -> list[ReviewItem]:
    """Select, merge with earlier decisions, (demo) fill from references; returns the queue."""
    selections = select_clips(transcripts, phrases, settings, drop)
    existing = outside_holdout(read_queue(folder), drop)
    fault_point("triage.before_queue")
    write_queue(folder, merge_queue(existing, selections))
    if settings.auto_approve:
        reviewed = simulate_review(read_queue(folder), drop.reference_texts(), settings.reviewer)
        write_queue(folder, reviewed)
    return read_queue(folder)


def review_phrases(
    spikes_file: Path,
    transcripts: Sequence[Transcript],
    training: Sequence[str],
    monitor: MonitorSettings,
    top: int,
) -> dict[str, float]:
    """The monitor's ``top`` flagged phrases with their weights (:meth:`SpikeReport.flagged`);
    ranked here when the monitor has not run."""
    if not spikes_file.exists():
        spikes = rank_spikes([t.text for t in transcripts], training, monitor)
        return SpikeReport("", tuple(spikes)).flagged(top)
    return SpikeReport.load(spikes_file).flagged(top)


def vocabulary_of(texts: Iterable[str]) -> set[str]:
    """The words of the training text (a reference word outside it is out of vocabulary)."""
    return {word for text in texts for word in words(text)}
