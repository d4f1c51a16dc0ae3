"""``conf/model``: the options differ in shape, so each kind has its own schema.

* the project's CTC encoder (``conformer_ctc``, ``transformer_ctc``): ``config`` is typed key by
  key (``model.config.d_model=abc`` is an error before anything is built);
* a transformers model built from its config (``wav2vec2_tiny``): ``config`` and
  ``feature_extractor`` are ``_target_`` nodes whose keys belong to transformers;
* a local checkpoint (``pretrained``): ``path`` and the checkpoint's own config.

:func:`model_schema` picks the kind from the keys a model entry has; the code tells the kinds
apart the same way (``"path" in model``), so no schema adds a key another kind lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

CTC_TRANSFORMER_CONFIG = "asrloop.model.ctc_transformer.CtcTransformerConfig"


@dataclass
class ModelSettings:
    """What every model entry has."""

    name: str = MISSING
    model_class: str = MISSING
    freeze_feature_encoder: bool = False


@dataclass
class CtcTransformerConfigSettings:
    """The project's encoder (``asrloop.model.ctc_transformer.CtcTransformerConfig``)."""

    _target_: str = CTC_TRANSFORMER_CONFIG
    encoder: str = MISSING  # conformer | transformer
    d_model: int = MISSING
    num_layers: int = MISSING
    num_heads: int = MISSING
    ff_dim: int = MISSING
    conv_kernel: int = MISSING
    dropout: float = MISSING
    subsampling: int = MISSING


@dataclass
class CtcModelSettings(ModelSettings):
    config: CtcTransformerConfigSettings = field(default_factory=CtcTransformerConfigSettings)


@dataclass
class TransformersModelSettings(ModelSettings):
    """A transformers model from its config class: its keys are that class's own."""

    config: dict[str, Any] = MISSING
    feature_extractor: dict[str, Any] | None = None


@dataclass
class PretrainedModelSettings(ModelSettings):
    """A local Hugging Face CTC checkpoint folder."""

    path: str = MISSING
    new_head: bool = False
    config_overrides: dict[str, Any] = field(default_factory=dict)


def model_schema(model: Mapping | None) -> type[ModelSettings]:
    """The schema for a model entry: a checkpoint has ``path``; the project's encoder names its
    config class; any other config is a transformers one."""
    if not isinstance(model, Mapping):
        return ModelSettings
    keys = set(model)  # a DictConfig's `in` says False for a ??? value: `path: ???` counts
    if "path" in keys:
        return PretrainedModelSettings
    config = model.get("config")
    if isinstance(config, Mapping) and config.get("_target_") == CTC_TRANSFORMER_CONFIG:
        return CtcModelSettings
    return TransformersModelSettings if "config" in keys else ModelSettings
