"""Score predictions: WER, CER, WER per voice and each emerging term's recall and precision."""

from __future__ import annotations

from collections.abc import Sequence

from asrloop.inference.batch import BatchStats, Prediction
from asrloop.metrics import cer, group_wer, term_stats, wer
from asrloop.records import SetScores


def score(
    predictions: Sequence[Prediction], terms: Sequence[str], stats: BatchStats | None = None
) -> SetScores:
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
    return SetScores(
        n=len(predictions),
        wer=wer(refs, hyps),
        cer=cer(refs, hyps),
        per_voice=group_wer((p.utterance.voice, p.reference, p.hypothesis) for p in predictions),
        terms=term_stats(refs, hyps, list(terms)),
        **timing,
    )
