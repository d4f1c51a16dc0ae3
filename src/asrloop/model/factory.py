"""Build or load the acoustic model named by ``cfg.model`` (Hydra ``_target_`` for its config).

A model entry with a ``path`` is a local checkpoint (:mod:`asrloop.model.checkpoint`); any other
is built from its config, randomly initialised, with the processor that goes with it.
"""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.utils import get_class
from omegaconf import DictConfig

from asrloop.model.checkpoint import Processor, load_ctc_model
from asrloop.model.inputs import is_fbank_model
from asrloop.text.tokenizer import CharTokenizer


def build_model(model_cfg: DictConfig, vocab_size: int, feature_stats=None):
    """A randomly initialised model, or a local pretrained checkpoint when ``path`` is set."""
    if "path" in model_cfg:
        return load_ctc_model(model_cfg.path, model_cfg.config_overrides)
    model_class = get_class(model_cfg.model_class)
    extra = {"vocab_size": vocab_size}
    config = hydra.utils.instantiate(model_cfg.config, _convert_="all", **extra)
    if feature_stats is not None and hasattr(config, "feature_mean"):
        config.feature_mean, config.feature_std = feature_stats
    return model_class(config)


def build_processor(model_cfg: DictConfig, model, tokenizer: CharTokenizer) -> Processor:
    """The processor of a model built from config: a raw-audio model's feature extractor comes
    from ``model.feature_extractor`` (a ``_target_``); the project's model needs none."""
    if is_fbank_model(model):
        return Processor(tokenizer)
    extractor = hydra.utils.instantiate(model_cfg.feature_extractor, _convert_="all")
    return Processor(tokenizer, extractor)


def load_model(path: str | Path):
    return load_ctc_model(path)
