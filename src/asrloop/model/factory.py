"""Build or load the acoustic model named by ``cfg.model`` (Hydra ``_target_`` for its config)."""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.utils import get_class
from omegaconf import DictConfig

import asrloop.model.ctc_transformer  # noqa: F401  (registers the Auto classes)
from asrloop.errors import MissingInputError


def build_model(model_cfg: DictConfig, vocab_size: int, feature_stats=None):
    """A randomly initialised model, or a local pretrained checkpoint when ``path`` is set."""
    model_class = get_class(model_cfg.model_class)
    if model_cfg.get("path"):
        path = Path(model_cfg.path)
        if not path.exists():
            raise MissingInputError(f"model.path: no checkpoint at {path}")
        return model_class.from_pretrained(str(path))
    extra = {"vocab_size": vocab_size}
    if feature_stats is not None and model_cfg.input == "fbank":
        extra["feature_mean"], extra["feature_std"] = feature_stats
    config = hydra.utils.instantiate(model_cfg.config, _convert_="all", **extra)
    return model_class(config)


def load_model(path: str | Path):
    from transformers import AutoModelForCTC

    return AutoModelForCTC.from_pretrained(str(path))
