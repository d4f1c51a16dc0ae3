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

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from asrloop.artifacts import TOP_SPIKES_ARTIFACT
from asrloop.corpus.manifest import iter_corpus
from asrloop.inference.transcript import Transcript
from asrloop.loop.disagreement import disagreements
from asrloop.records import LowConfidenceReport, LowConfidenceSpan, Spike, SpikeReport
from asrloop.report_render import Report, Section, write_report
from asrloop.settings.triage import MonitorSettings
from asrloop.text.normalize import words


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
    production_texts: Iterable[str], training_texts: Iterable[str], settings: MonitorSettings
) -> list[Spike]:
    """N-grams (1..max_n) whose production rate spikes against training, best first."""
    texts = [words(text) for text in production_texts]
    prod, prod_totals = _count(texts, settings.max_n)
    train, train_totals = count_ngrams(training_texts, settings.max_n)
    level = math.log(settings.min_ratio)
    candidates = [
        spike
        for spike in _score_all(prod, prod_totals, train, train_totals, settings.smoothing)
        if spike.prod_count >= settings.min_count and spike.score >= level
    ]
    floor = settings.common_rate * train_totals[1]
    common = {gram[0] for gram, count in train.items() if len(gram) == 1 and count >= floor}

    def n_common(spike: Spike) -> int:
        return sum(word in common for word in spike.ngram.split())

    candidates.sort(key=lambda s: (-s.score, n_common(s), -s.n, s.ngram))
    return _take_distinct(candidates, texts, settings.max_n, settings.overlap)


def _runs(flags: Sequence[bool]) -> Iterable[tuple[int, int]]:
    """(start, end) index ranges of consecutive True values."""
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            yield start, i
            start = None


def low_confidence_spans(
    transcripts: Iterable[Transcript], threshold: float
) -> list[LowConfidenceSpan]:
    """Runs of consecutive words with confidence below ``threshold``, least confident first."""
    spans = []
    for transcript in transcripts:
        timed = transcript.transcription.words
        for first, last in _runs([w.confidence < threshold for w in timed]):
            part = timed[first:last]
            spans.append(
                LowConfidenceSpan(
                    id=transcript.id,
                    text=" ".join(w.word for w in part),
                    start=part[0].start,
                    end=part[-1].end,
                    confidence=round(sum(w.confidence for w in part) / len(part), 4),
                    n_words=len(part),
                )
            )
    return sorted(spans, key=lambda s: (s.confidence, s.id, s.start))


# ---- reports ---------------------------------------------------------------------------------


def _span_counts(spans: list[LowConfidenceSpan], top: int) -> list[tuple[str, int]]:
    return Counter(span.text for span in spans).most_common(top)


def monitor_report(report: SpikeReport, spans: list[LowConfidenceSpan], top_k: int) -> Report:
    spikes, drop = report.spikes, report.drop
    shown = spikes[:top_k]
    spike_rows = [
        [rank, s.ngram, s.prod_count, s.train_count, f"{s.expected:.2f}", f"{s.score:.2f}"]
        for rank, s in enumerate(shown, start=1)
    ]
    return Report(
        f"Monitor: {drop}",
        [
            Section(
                "Spiking phrases",
                ["rank", "n-gram", "production", "training", "expected", "score"],
                spike_rows,
                f"{len(spikes)} spiking n-grams; top {len(shown)}:",
            ),
            Section(
                "Where the two decoding paths disagree",
                ["lexicon + LM wrote", "greedy heard", "times", "of its occurrences"],
                [
                    [d.phrase, d.heard, d.count, f"{d.rate:.0%}"]
                    for d in report.disagreements[:top_k]
                ],
                f"{len(report.disagreements)} phrases the acoustics alone spell differently "
                "(a new word forced into a known one?):",
            ),
            Section(
                "Low-confidence spans",
                ["span", "count"],
                _span_counts(spans, top_k),
                f"{len(spans)} low-confidence spans; most frequent:",
            ),
        ],
    )


def print_table(drop: str, spikes: list[Spike], top_k: int) -> None:
    from rich.table import Table

    from asrloop.progress import console

    table = Table(title=f"Spiking phrases in {drop}")
    for column in ("rank", "n-gram", "prod", "train", "score"):
        table.add_column(column, justify="left" if column == "n-gram" else "right")
    for rank, s in enumerate(spikes[:top_k], start=1):
        table.add_row(str(rank), s.ngram, str(s.prod_count), str(s.train_count), f"{s.score:.2f}")
    console.print(table)


def write_outputs(
    spikes_file: Path,
    low_confidence_file: Path,
    report: SpikeReport,
    spans: list[LowConfidenceSpan],
    top_k: int,
) -> list[Path]:
    """The spikes (and disagreements, ranked), the low-confidence spans, and the report beside
    the spikes (``spikes.md``/``.html``)."""
    out_dir = spikes_file.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    low_confidence = LowConfidenceReport(tuple(spans)).write(low_confidence_file)
    files = [report.write(spikes_file), low_confidence]
    return files + write_report(monitor_report(report, spans, top_k), out_dir, spikes_file.stem)


def log_monitor(
    mlflow,
    report: SpikeReport,
    spans: list[LowConfidenceSpan],
    transcripts: list[Transcript],
    top_k: int,
    files: list[Path],
) -> None:
    """The step's metrics, its top spikes as a table, and its files (under ``monitor/``)."""
    spikes = report.spikes
    confidences = [t.confidence for t in transcripts]
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
        mlflow.log_table({key: [row[key] for row in top] for key in top[0]}, TOP_SPIKES_ARTIFACT)
    for path in files:
        mlflow.log_artifact(str(path), "monitor")
    mlflow.log_metric("disagreements", len(report.disagreements))


def training_texts(corpus_dir: Path) -> list[str]:
    """Texts of every ``train`` row of the current corpus (base and grown shards)."""
    return [row.text or "" for row in iter_corpus(corpus_dir, ["train"])]


def monitor_drop(
    drop: str, transcripts: list[Transcript], training: list[str], settings: MonitorSettings
) -> tuple[SpikeReport, list[LowConfidenceSpan]]:
    """A drop's spiking phrases and two-path disagreements, and its low-confidence spans."""
    spikes = rank_spikes([t.text for t in transcripts], training, settings)
    spans = low_confidence_spans(transcripts, settings.confidence_threshold)
    disagreed = disagreements(
        transcripts,
        settings.disagreement_similarity,
        settings.disagreement_min_count,
        settings.disagreement_min_rate,
    )
    return SpikeReport(drop, tuple(spikes), tuple(disagreed)), spans
