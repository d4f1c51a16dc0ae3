"""Typed, structured configs: one dataclass schema per config group (the NeMo way).

``asrloop.config.validated`` merges every composed config into :class:`Settings` (wrong types
and unknown keys fail at composition, naming the key and the file; optional keys get their
defaults); :func:`typed` turns a validated config into the dataclasses for steps that want
attributes with types. The modules import only ``dataclasses``, ``typing`` and ``omegaconf``:
any library module may import them.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from asrloop.settings.decode import DECODERS, DecodeSettings, LexiconDecodeSettings
from asrloop.settings.model import (
    CtcModelSettings,
    ModelSettings,
    PretrainedModelSettings,
    TransformersModelSettings,
)
from asrloop.settings.origin import Origin
from asrloop.settings.root import GROUPS, Settings
from asrloop.settings.validation import HYDRA_NODE, validate

MODEL_KINDS: dict[str, type[ModelSettings]] = {
    "ctc": CtcModelSettings,
    "transformers": TransformersModelSettings,
    "pretrained": PretrainedModelSettings,
}


def register_configs() -> None:
    """Store the schemas in Hydra's ConfigStore, each group's as ``<group>/schema`` (model and
    decode: also ``schema_<kind>`` per kind of option), so that a group's YAML file may opt into
    Hydra's own check with ``defaults: [schema, _self_]``. (The root ``Settings`` is not stored:
    it repeats every group, and storing converts it, a cost paid by every process.)"""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for group, schema in GROUPS.items():
        store.store(group=group, name="schema", node=schema)
    for kind, schema in MODEL_KINDS.items():
        store.store(group="model", name=f"schema_{kind}", node=schema)
    for kind, schema in DECODERS.items():
        store.store(group="decode", name=f"schema_{kind}", node=schema)


def typed(config: DictConfig) -> Settings:
    """A validated config as :class:`Settings` (interpolations resolved; the config must come
    from ``asrloop.config``, which also registers its resolvers). An unvalidated one is
    validated first."""
    if OmegaConf.get_type(config) is not Settings or HYDRA_NODE in config:
        config = validate(config, Origin("the config"))
    return OmegaConf.to_object(config)


__all__ = [
    "GROUPS",
    "CtcModelSettings",
    "DecodeSettings",
    "LexiconDecodeSettings",
    "ModelSettings",
    "Origin",
    "PretrainedModelSettings",
    "Settings",
    "TransformersModelSettings",
    "register_configs",
    "typed",
    "validate",
]
