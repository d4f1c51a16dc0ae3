"""Build or load the acoustic model named by ``conf/model`` (Hydra ``_target_`` for its config).

A model entry with a ``path`` (:class:`~asrloop.settings.model.PretrainedModelSettings`) is a
local checkpoint (:mod:`asrloop.model.checkpoint`); any other is built from its config, randomly
initialised, with the processor that goes with it.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import hydra
from hydra.utils import get_class

from asrloop.model.checkpoint import Processor, load_ctc_model
from asrloop.model.inputs import is_fbank_model
from asrloop.settings.model import (
    ModelSettings,
    PretrainedModelSettings,
    TransformersModelSettings,
)
from asrloop.text.tokenizer import CharTokenizer


def build_model(settings: ModelSettings, vocab_size: int, feature_stats=None):
    """A randomly initialised model, or a local pretrained checkpoint when ``path`` is set."""
    if isinstance(settings, PretrainedModelSettings):
        return load_ctc_model(settings.path, settings.config_overrides)
    model_class = get_class(settings.model_class)
    extra = {"vocab_size": vocab_size}
    config = hydra.utils.instantiate(_node(settings.config), _convert_="all", **extra)
    if feature_stats is not None and hasattr(config, "feature_mean"):
        config.feature_mean, config.feature_std = feature_stats
    return model_class(config)


def build_processor(settings: ModelSettings, model, tokenizer: CharTokenizer) -> Processor:
    """The processor of a model built from config: a raw-audio model's feature extractor comes
    from ``model.feature_extractor`` (a ``_target_``); the project's model needs none."""
    if is_fbank_model(model):
        return Processor(tokenizer)
    node = settings.feature_extractor if isinstance(settings, TransformersModelSettings) else None
    return Processor(tokenizer, hydra.utils.instantiate(node, _convert_="all"))


def architecture_mismatches(settings: ModelSettings, model) -> list[str]:
    """The ``model.*`` settings a loaded ``model`` does not have (a warm start keeps the loaded
    architecture, so these would be silently ignored): ``key=wanted (the model has ...)``."""
    if isinstance(settings, PretrainedModelSettings):
        return []
    found = []
    wanted_class = settings.model_class.rsplit(".", 1)[-1]
    if type(model).__name__ != wanted_class:
        found.append(f"model.model_class={wanted_class} (the model is {type(model).__name__})")
    config = _node(settings.config)
    for key, wanted in config.items() if isinstance(config, dict) else ():
        if key.startswith("_") or not hasattr(model.config, key):
            continue
        actual = getattr(model.config, key)
        if _plain(actual) != _plain(wanted):
            found.append(f"model.config.{key}={wanted!r} (the model has {actual!r})")
    return found


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, list | tuple) else value


def _node(config: Any) -> Any:
    """A ``_target_`` node as Hydra takes it: a typed one (the project's encoder) as a dict."""
    return asdict(config) if is_dataclass(config) else config


def load_model(path: str | Path):
    return load_ctc_model(path)
