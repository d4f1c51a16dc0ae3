"""Check a composed config against the schemas; every failure becomes one ``ConfigError``.

OmegaConf's own errors name a key deep in a traceback; a person needs the key, the file it came
from, what is wrong and what to write instead. :func:`validate` merges the config into the root
schema (types are checked, unknown keys refused, optional keys filled in), checks the free-form
nodes that have known keys, then refuses missing values; the :class:`~asrloop.settings.origin.
Origin` of the config lets the message name the file (``conf/<group>/<option>.yaml``, an
overlay, a command-line override or the pipeline's params file).
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Mapping
from functools import cache

from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

from asrloop.errors import ConfigError
from asrloop.settings.common import FreeFormCheck, schema_fields
from asrloop.settings.decode import CHOICES as DECODE_CHOICES
from asrloop.settings.executor import CHOICES as EXECUTOR_CHOICES
from asrloop.settings.keys import FREE_FORM_CHECKS, field_type, optional_inner, raw
from asrloop.settings.messages import ChoiceError, PartialError, message, missing_message
from asrloop.settings.origin import Origin
from asrloop.settings.root import Settings, root_schema
from asrloop.settings.train_data import CHOICES as TRAIN_DATA_CHOICES
from asrloop.settings.triage import CHOICES as TRIAGE_CHOICES

HYDRA_NODE = "hydra"  # Hydra's own settings: not the project's, never validated here


@cache
def _pickled_schema(model: type, decode: type) -> bytes:
    return pickle.dumps(OmegaConf.structured(Settings(model=model(), decode=decode())))


def structured(schema) -> DictConfig:
    """``OmegaConf.structured(schema)``, made once per model and decode kind and copied after
    (unpickling a copy takes a twentieth of building one; every step validates its config)."""
    return pickle.loads(_pickled_schema(type(schema.model), type(schema.decode)))


def validate(
    config: DictConfig, origin: Origin, partial: bool = False, consume: bool = False
) -> DictConfig:
    """``config`` (less Hydra's node) merged into the schemas; ``partial`` lets keys be absent
    (an old params snapshot: they fail where read); ``consume`` takes ``config`` apart instead
    of copying it (a config nobody else holds; the copy is a third of the time). Raises one
    ``ConfigError``."""
    if consume:
        body = config
        with read_write(body), open_dict(body):
            body.pop(HYDRA_NODE, None)
    else:
        body = OmegaConf.masked_copy(config, [k for k in config if k != HYDRA_NODE])
    data = OmegaConf.to_container(body, resolve=False)
    schema = root_schema(data)
    try:
        _check_choices(data)
        deferred = _interpolated_sections(data, schema)
        for key in deferred:
            parent, _, leaf = key.rpartition(".")
            with open_dict(body):
                del OmegaConf.select(body, parent)[leaf]
        # unsafe: moves body's nodes instead of copying them (body is ours to take apart)
        merged = OmegaConf.unsafe_merge(structured(schema), body)
        for key, interpolation in deferred.items():
            OmegaConf.update(merged, key, interpolation, merge=False)
        for path, check in FREE_FORM_CHECKS.items():
            _check_free_form(merged, path, check)
    except OmegaConfBaseException as error:
        raise ConfigError(message(error, schema, data, origin)) from None
    missing = [] if partial else _missing(merged)
    if missing:
        raise ConfigError(missing_message(missing, data, origin))
    return merged


def _interpolated_sections(data: Mapping, schema: object, prefix: str = "") -> dict[str, str]:
    """Keys whose value is an interpolation where the schema has a section (``grow.synthesize.
    noise: ${corpus.noise}``): OmegaConf cannot merge those, only assign them."""
    found: dict[str, str] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.update(_interpolated_sections(value, schema, path + "."))
        elif isinstance(value, str) and value.startswith("${"):
            kind = optional_inner(field_type(schema, path))
            if dataclasses.is_dataclass(kind):
                found[path] = value
    return found


def _missing(node: DictConfig | ListConfig, prefix: str = "") -> list[str]:
    """Keys whose value is missing (``???``): sections are searched, lists only for sections
    (a list of words is never missing)."""
    found: list[str] = []
    keys = node.keys() if isinstance(node, DictConfig) else range(len(node))
    for key in keys:
        path = f"{prefix}.{key}" if isinstance(node, DictConfig) else f"{prefix}[{key}]"
        path = path.lstrip(".")
        if OmegaConf.is_missing(node, key):
            found.append(path)
        elif not OmegaConf.is_interpolation(node, key):
            child = node[key]
            if isinstance(child, DictConfig) or (
                isinstance(child, ListConfig) and len(child) and OmegaConf.is_config(child[0])
            ):
                found += _missing(child, path)
    return found


CHOICES = {
    **DECODE_CHOICES,
    **TRIAGE_CHOICES,
    **EXECUTOR_CHOICES,
    **TRAIN_DATA_CHOICES,
}  # checked before the schema is picked


def _check_choices(data: Mapping) -> None:
    for key, choices in CHOICES.items():
        value = raw(data, key)
        if value is not None and value not in choices:
            raise ChoiceError(key, value, choices)


def _check_free_form(merged: DictConfig, path: str, check: FreeFormCheck) -> None:
    node = OmegaConf.select(merged, path, default=None)
    if not isinstance(node, DictConfig):
        return
    data = OmegaConf.to_container(node, resolve=False)
    known = schema_fields(check.schema)
    if not check.strict:
        data = {k: v for k, v in data.items() if k in known}
    try:
        OmegaConf.merge(OmegaConf.structured(check.schema), data)
    except OmegaConfBaseException as error:
        raise PartialError(path, error) from None
