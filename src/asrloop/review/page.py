"""What the review page shows: filters, progress, and hypotheses with their words marked.

Plain functions over :class:`~asrloop.loop.review_queue.ReviewItem` rows; the web app
(:mod:`asrloop.review.app`) renders their results. A hypothesis word is *low* when the model's
confidence in it is below the threshold, *flagged* when it belongs to a flagged phrase (the
row's own ``flagged: ...`` reason, or one of the monitor's top spikes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from asrloop.loop.review_queue import ReviewItem
from asrloop.loop.reviewer import minutes_spent, review_order

FLAGGED = "flagged"
FILTERS = ("status", "reason", "voice", "phrase")


@dataclass(frozen=True)
class PageSettings:
    """``conf/review``, as the page needs it."""

    drop: str
    reviewer: str
    low_confidence: float
    phrases: tuple[str, ...]  # the monitor's top spikes, highlighted in every row
    decision_seconds: float = 10.0  # what a decision costs beside listening (review minutes)
    budget_minutes: float | None = None  # at this many review minutes pending rows are held back


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float | None
    low: bool
    flagged: bool


def reason_parts(item: ReviewItem) -> list[str]:
    return [part.strip() for part in item.reason.split(";") if part.strip()]


def reason_kinds(item: ReviewItem) -> list[str]:
    """``random``, ``flagged``, ``least confident``: the reasons without their details."""
    return [part.split(":")[0].split(" (")[0].strip() for part in reason_parts(item)]


def flagged_phrases(item: ReviewItem) -> list[str]:
    """The phrases of the row's ``flagged: <phrase>`` reasons."""
    return [
        part.split(":", 1)[1].strip()
        for part in reason_parts(item)
        if part.startswith(f"{FLAGGED}:")
    ]


def phrase_positions(tokens: Sequence[str], phrase: Sequence[str]) -> set[int]:
    """Indices of ``tokens`` covered by an occurrence of ``phrase``."""
    n = len(phrase)
    covered: set[int] = set()
    for start in range(len(tokens) - n + 1 if n else 0):
        if list(tokens[start : start + n]) == list(phrase):
            covered.update(range(start, start + n))
    return covered


def marked_words(item: ReviewItem, phrases: Iterable[str], threshold: float) -> list[Word]:
    """The hypothesis word by word, low-confidence and flagged-phrase words marked."""
    tokens = item.hypothesis.split()
    confidences: list[float | None] = list(item.word_confidences)
    if len(confidences) != len(tokens):  # no (or mismatched) word confidences: mark nothing
        confidences = [None] * len(tokens)
    flagged: set[int] = set()
    for phrase in [*flagged_phrases(item), *phrases]:
        flagged |= phrase_positions(tokens, phrase.split())
    return [
        Word(token, conf, conf is not None and conf < threshold, index in flagged)
        for index, (token, conf) in enumerate(zip(tokens, confidences, strict=True))
    ]


def matches(item: ReviewItem, filters: Mapping[str, str]) -> bool:
    """Whether a row passes the page's filters (an empty filter passes everything)."""
    tests = {
        "status": lambda value: item.status == value,
        "reason": lambda value: value in reason_kinds(item),
        "voice": lambda value: item.voice == value,
        "phrase": lambda value: value in flagged_phrases(item),
    }
    return all(tests[name](value) for name, value in filters.items() if value)


def filter_options(items: Sequence[ReviewItem]) -> dict[str, list[str]]:
    """The values each filter can take in this queue."""
    return {
        "status": ["pending", "approved", "rejected"],
        "reason": sorted({kind for item in items for kind in reason_kinds(item)}),
        "voice": sorted({item.voice for item in items if item.voice}),
        "phrase": sorted({phrase for item in items for phrase in flagged_phrases(item)}),
    }


def progress(items: Sequence[ReviewItem], settings: PageSettings | None = None) -> dict:
    """Rows by status, with ``total`` and ``decided``; the review minutes spent so far (each
    decided row's audio plus the decision time) and whether they reached the budget."""
    counts = Counter(item.status for item in items)
    total = sum(counts.values())
    decision = settings.decision_seconds if settings else 10.0
    budget = settings.budget_minutes if settings else None
    spent = minutes_spent(items, decision)
    return {
        "total": total,
        "decided": counts["approved"] + counts["rejected"],
        "approved": counts["approved"],
        "rejected": counts["rejected"],
        "pending": counts["pending"],
        "minutes": round(spent, 1),
        "budget_minutes": budget,
        "budget_reached": budget is not None and spent >= budget,
    }


def page_rows(items: Sequence[ReviewItem], settings: PageSettings) -> list[ReviewItem]:
    """The rows in review order (the selection's rank); once the budget is spent, pending rows
    are held back (they stay in the queue for a later budget)."""
    ordered = review_order(items)
    if progress(items, settings)["budget_reached"]:
        return [item for item in ordered if item.decided]
    return ordered


def spike_phrases(spikes_file: Path, top: int) -> tuple[str, ...]:
    """The monitor's top phrases for the drop, or none when the monitor has not run."""
    from asrloop.records import SpikeReport

    if not spikes_file.exists():
        return ()
    return tuple(SpikeReport.load(spikes_file).phrases(top))
