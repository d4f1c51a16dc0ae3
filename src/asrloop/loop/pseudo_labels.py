"""Semi-supervised rows (``grow.pseudo_label``): clips the calibrated model is sure of train
with its own hypothesis as the label, no reviewer needed.

Off by default. A clip qualifies when every word's calibrated confidence reaches
``min_confidence``; clips in the drop's held-out part and clips in the review queue (a person
decides those) never qualify. The rows are kept apart: their own shard
(``data/corpus/grown/<drop>-pseudo/``), ``pseudo_label`` in each row's provenance, and they pass
the same label check as reviewed rows. They never become validation clips.
"""

from __future__ import annotations

from collections.abc import Iterable

from asrloop.corpus.drop import Drop
from asrloop.inference.transcript import Transcript
from asrloop.loop.review_queue import ReviewItem
from asrloop.settings.grow import PseudoLabelSettings

PSEUDO_LABELER = "model:pseudo-label"  # the "reviewer" of a pseudo-labelled row


def is_pseudo_label(item: ReviewItem) -> bool:
    return item.reviewer == PSEUDO_LABELER


def pseudo_labels(
    transcripts: Iterable[Transcript],
    queued: set[str],
    drop: Drop,
    settings: PseudoLabelSettings,
) -> list[ReviewItem]:
    """The drop's clips sure enough to train on their hypothesis, surest first, at most
    ``settings.max_clips``; none when ``settings.enabled`` is false."""
    if not settings.enabled:
        return []
    sure = []
    for transcript in transcripts:
        words = transcript.transcription.words
        if not words or transcript.id in queued or drop.is_holdout(transcript.id):
            continue
        lowest = min(word.confidence for word in words)
        if lowest >= settings.min_confidence:
            sure.append((lowest, transcript))
    sure.sort(key=lambda pair: (-pair[0], pair[1].id))
    return [
        ReviewItem.from_transcript(
            t,
            f"pseudo-label (lowest word confidence {lowest:.2f})",
            status="approved",
            reviewer=PSEUDO_LABELER,
        )
        for lowest, t in sure[: settings.max_clips]
    ]
