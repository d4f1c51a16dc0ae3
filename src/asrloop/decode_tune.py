"""Decoder tuning (``asrloop decode tune``): grid-search the LM weight and word-insertion score.

The acoustic model runs once; every grid point re-decodes the cached log-probabilities. The best
pair is written to ``reports/decode/tune.json`` (:class:`asrloop.records.DecodeTuning`, with the
full grid) and logged to MLflow; use it as ``decode.lm_weight=... decode.word_score=...``.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import torch

from asrloop.audio.io import read_audio
from asrloop.decode import build_decoder
from asrloop.metrics import wer
from asrloop.progress import console, progress_bar
from asrloop.records import DecodeTuning, TuningPoint
from asrloop.settings.decode import LexiconDecodeSettings


def dev_log_probs(recognizer, rows, batch: int = 32) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = []
    with progress_bar("acoustic model on dev", len(rows)) as advance:
        for start in range(0, len(rows), batch):
            audios = [
                read_audio(r.audio_path, segment=r.segment)[0] for r in rows[start : start + batch]
            ]
            out.append(recognizer.log_probs(audios))
            advance(len(audios))
    return out


def tune(
    recognizer, rows, decode: LexiconDecodeSettings, vocab_dir: Path
) -> tuple[TuningPoint, list[TuningPoint]]:
    """(best point, the whole grid) of ``decode.tune`` on ``rows``, re-decoding cached
    log-probabilities."""
    refs = [r.text or "" for r in rows]
    cached = dev_log_probs(recognizer, rows)
    grid = []
    points = list(itertools.product(decode.tune.lm_weights, decode.tune.word_scores))
    with progress_bar("decoding grid", len(points)) as advance:
        for lm_weight, word_score in points:
            settings = replace(decode, lm_weight=lm_weight, word_score=word_score)
            decoder = build_decoder(settings, recognizer.tokenizer, vocab_dir)
            hyps = [h.text for lp, n in cached for h in decoder.decode(lp, n)]
            grid.append(TuningPoint(lm_weight, word_score, wer(refs, hyps)))
            advance()
    best = min(grid, key=lambda g: (g.wer, abs(g.word_score), g.lm_weight))
    return best, grid


def log_tuning(mlflow, tuning: DecodeTuning, out: Path) -> None:
    """The best point as metrics, the record as an artifact."""
    best = tuning.best
    mlflow.log_metrics(
        {
            "best_dev_wer": best.wer,
            "best_lm_weight": best.lm_weight,
            "best_word_score": best.word_score,
        }
    )
    mlflow.log_artifact(str(out), "decode")


def print_best(best: TuningPoint, out: Path) -> None:
    console.print(
        f"best on dev: WER {best.wer:.4f} with decode.lm_weight={best.lm_weight} "
        f"decode.word_score={best.word_score} ({out})"
    )
