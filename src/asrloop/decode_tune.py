"""``asrloop decode tune``: grid-search the LM weight and word-insertion score on dev.

The acoustic model runs once; every grid point re-decodes the cached log-probabilities. The best
pair is written to ``reports/decode/tune.json`` (with the full grid) and logged to MLflow; use it
as ``decode.lm_weight=... decode.word_score=...``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from asrloop import tracking
from asrloop.audio.io import read_audio
from asrloop.corpus.manifest import audio_path, iter_corpus
from asrloop.decode import build_decoder
from asrloop.evaluate import load_recognizer
from asrloop.metrics import wer
from asrloop.progress import console, progress_bar


def dev_log_probs(recognizer, rows, batch: int = 32) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = []
    with progress_bar("acoustic model on dev", len(rows)) as advance:
        for start in range(0, len(rows), batch):
            audios = [read_audio(audio_path(r))[0] for r in rows[start : start + batch]]
            out.append(recognizer.log_probs(audios))
            advance(len(audios))
    return out


def tune(cfg: DictConfig) -> dict:
    recognizer, info = load_recognizer(cfg)
    rows = list(iter_corpus(cfg.paths.base_corpus, ["dev"]))
    refs = [r["text"] for r in rows]
    cached = dev_log_probs(recognizer, rows)
    grid = []
    points = list(itertools.product(cfg.decode.tune.lm_weights, cfg.decode.tune.word_scores))
    with progress_bar("decoding grid", len(points)) as advance:
        for lm_weight, word_score in points:
            settings = OmegaConf.merge(
                cfg.decode, {"lm_weight": lm_weight, "word_score": word_score}
            )
            decoder = build_decoder(settings, recognizer.tokenizer, cfg.paths.vocab)
            hyps = [h.text for lp, n in cached for h in decoder.decode(lp, n)]
            grid.append({"lm_weight": lm_weight, "word_score": word_score, "wer": wer(refs, hyps)})
            advance()
    best = min(grid, key=lambda g: (g["wer"], abs(g["word_score"]), g["lm_weight"]))
    result = {"best": best, "grid": grid, **info}
    out = Path(cfg.paths.reports) / "decode" / "tune.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    with tracking.step_run(cfg, "decode_tune"):
        mlflow = tracking.setup(cfg)
        mlflow.log_metrics(
            {
                "best_dev_wer": best["wer"],
                "best_lm_weight": best["lm_weight"],
                "best_word_score": best["word_score"],
            }
        )
        mlflow.log_artifact(str(out), "decode")
    console.print(
        f"best on dev: WER {best['wer']:.4f} with decode.lm_weight={best['lm_weight']} "
        f"decode.word_score={best['word_score']} ({out})"
    )
    return result


def run(cfg: DictConfig) -> None:
    tune(cfg)
