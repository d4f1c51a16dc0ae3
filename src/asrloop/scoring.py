"""Score predictions: WER and CER with their intervals, WER per voice and per slice, each
emerging term's recall (with its interval) and precision, B-WER / U-WER on the biasing list and
the false-alarm rate on term-free clips.

Intervals are bootstrap intervals over utterances (:mod:`asrloop.stats.bootstrap`); the per-clip
errors behind them are kept in the predictions files (``errors``, ``ref_words``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from asrloop.corpus.slices import slices_of
from asrloop.inference.batch import BatchStats, Prediction
from asrloop.metrics import (
    biased_errors,
    cer,
    false_alarm_clips,
    group_wer,
    term_hits,
    term_stats,
    utterance_errors,
    wer,
)
from asrloop.records import GroupScores, SetScores, TermScores
from asrloop.stats.bootstrap import rate_interval

CONFIDENCE = 0.95


def term_scores_with_intervals(
    refs: Sequence[str], hyps: Sequence[str], terms: Sequence[str]
) -> dict[str, TermScores]:
    """:func:`asrloop.metrics.term_stats`, each recall with its interval over utterances."""
    out = {}
    for term, stats in term_stats(refs, hyps, terms).items():
        if stats.support:
            hits, said, _ = term_hits(refs, hyps, term)
            stats = replace(stats, recall_interval=rate_interval(hits, said, CONFIDENCE))
        out[term] = stats
    return out


def _interval(errors: Sequence[int], words: Sequence[int]):
    """The rate's interval over the utterances that have words to count (None without any)."""
    rows = [(e, w) for e, w in zip(errors, words, strict=True) if w or e]
    if not any(w for _, w in rows):
        return None
    return rate_interval([e for e, _ in rows], [w for _, w in rows], CONFIDENCE)


def slice_scores(
    predictions: Sequence[Prediction], errors: Sequence[int], words: Sequence[int]
) -> dict[str, GroupScores]:
    """WER per slice (:mod:`asrloop.corpus.slices`), with intervals."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, prediction in enumerate(predictions):
        for name in slices_of(prediction.utterance):
            members[name].append(i)
    out = {}
    for name in sorted(members):
        rows = members[name]
        e, w = [errors[i] for i in rows], [words[i] for i in rows]
        refs = [predictions[i].reference for i in rows]
        hyps = [predictions[i].hypothesis for i in rows]
        interval = rate_interval(e, w, CONFIDENCE)
        out[name] = GroupScores(
            wer=interval.estimate,
            clips=len(rows),
            words=sum(w),
            cer=cer(refs, hyps),
            wer_interval=interval,
        )
    return out


def score(
    predictions: Sequence[Prediction],
    terms: Sequence[str],
    stats: BatchStats | None = None,
    bias_list: Sequence[str] = (),
) -> SetScores:
    """Every score of one set. The biasing list of B-WER / U-WER is ``terms`` plus
    ``bias_list`` (distractors, when a list is given)."""
    refs = [p.reference for p in predictions]
    hyps = [p.hypothesis for p in predictions]
    timing = {}
    if stats is not None:
        timing = {
            "audio_seconds": stats.audio_seconds,
            "compute_seconds": stats.compute_seconds,
            "rtf": stats.rtf,
            "skipped": stats.skipped,
        }
    errors, words = utterance_errors(refs, hyps)
    biased = biased_errors(refs, hyps, [*terms, *bias_list])
    alarms, term_free = false_alarm_clips(refs, hyps, terms)
    return SetScores(
        n=len(predictions),
        wer=wer(refs, hyps),
        cer=cer(refs, hyps),
        per_voice=group_wer((p.utterance.voice, p.reference, p.hypothesis) for p in predictions),
        terms=term_scores_with_intervals(refs, hyps, terms),
        wer_interval=rate_interval(errors, words, CONFIDENCE) if predictions else None,
        slices=slice_scores(predictions, errors, words),
        b_wer=biased.b_wer if predictions else None,
        u_wer=biased.u_wer if predictions else None,
        b_words=sum(biased.b_words),
        b_wer_interval=_interval(biased.b_errors, biased.b_words),
        u_wer_interval=_interval(biased.u_errors, biased.u_words),
        false_alarm_clips=alarms,
        term_free_clips=term_free,
        **timing,
    )
