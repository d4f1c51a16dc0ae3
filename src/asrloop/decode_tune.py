"""``asrloop decode tune``: grid-search the LM weight and word-insertion score on dev.

The acoustic model runs once; every grid point re-decodes the cached log-probabilities. The best
pair is written to ``reports/decode/tune.json`` (with the full grid) and logged to MLflow; use it
as ``decode.lm_weight=... decode.word_score=...``.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from asrloop import tracking
from asrloop.audio.io import read_audio
from asrloop.config import config_snapshot
from asrloop.corpus.manifest import iter_corpus
from asrloop.decode import build_decoder
from asrloop.jsonio import write_json
from asrloop.metrics import wer
from asrloop.model.registry import Registry
from asrloop.progress import console, progress_bar
from asrloop.serve.loading import DecodingSetup, load_recognizer


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


def tune(recognizer, rows, decode_cfg: DictConfig, vocab_dir: Path) -> tuple[dict, list[dict]]:
    """(best point, the whole grid) of ``decode.tune`` on ``rows``, re-decoding cached
    log-probabilities."""
    refs = [r.text or "" for r in rows]
    cached = dev_log_probs(recognizer, rows)
    grid = []
    points = list(itertools.product(decode_cfg.tune.lm_weights, decode_cfg.tune.word_scores))
    with progress_bar("decoding grid", len(points)) as advance:
        for lm_weight, word_score in points:
            settings = OmegaConf.merge(
                decode_cfg, {"lm_weight": lm_weight, "word_score": word_score}
            )
            decoder = build_decoder(settings, recognizer.tokenizer, vocab_dir)
            hyps = [h.text for lp, n in cached for h in decoder.decode(lp, n)]
            grid.append({"lm_weight": lm_weight, "word_score": word_score, "wer": wer(refs, hyps)})
            advance()
    best = min(grid, key=lambda g: (g["wer"], abs(g["word_score"]), g["lm_weight"]))
    return best, grid


def run(cfg: DictConfig) -> dict:
    settings = tracking.TrackingSettings.from_config(cfg.tracking, cfg.paths.root)
    setup = DecodingSetup.from_config(cfg.decode, cfg.features, cfg.paths.vocab)
    recognizer, info = load_recognizer(str(cfg.evaluate.model), setup, Registry(settings))
    rows = list(iter_corpus(cfg.paths.base_corpus, ["dev"]))
    best, grid = tune(recognizer, rows, cfg.decode, Path(cfg.paths.vocab))
    result = {"best": best, "grid": grid, **asdict(info)}
    out = write_json(Path(cfg.paths.reports) / "decode" / "tune.json", result)
    with tracking.step_run(settings, "decode_tune", config_snapshot(cfg)):
        mlflow = tracking.setup(settings)
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
