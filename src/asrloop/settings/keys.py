"""What the schemas say about one dotted key (``scenario.drops[0].terms``), and what a config
holds there: the helpers that let an error message name the key, its type and the value."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from asrloop.settings.common import FreeFormCheck
from asrloop.settings.train import FREE_FORM

FREE_FORM_CHECKS: dict[str, FreeFormCheck] = {**FREE_FORM}


def parts(key: str) -> list[str]:
    return [p for p in re.split(r"[.\[\]]", key) if p]


def within(key: str, prefix: str) -> bool:
    """``key`` is ``prefix`` or below it."""
    return key == prefix or key.startswith((prefix + ".", prefix + "["))


def optional_inner(kind: Any) -> Any:
    """``X`` for ``X | None``; anything else unchanged."""
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return kind


def _step(kind: Any, value: Any, part: str) -> tuple[Any, Any]:
    """One key down: the declared type below ``kind`` (and the schema instance below ``value``,
    whose own subclass counts: the model and decode sections); ``(None, None)`` if unknown."""
    kind = optional_inner(kind)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        if part not in hints:
            return None, None
        child = getattr(value, part, None) if value is not None else None
        if dataclasses.is_dataclass(child):
            return type(child), child
        return hints[part], None
    if typing.get_origin(kind) in (list, dict):
        return typing.get_args(kind)[-1], None
    return None, None


def field_type(schema: object, key: str) -> Any:
    """The declared type of ``key`` in ``schema`` (a dataclass or an instance of one), or None
    where the schema does not say. Keys of a checked free-form node take its check's types."""
    for path, check in FREE_FORM_CHECKS.items():
        if key.startswith(path + "."):
            return field_type(check.schema, key[len(path) + 1 :])
    value, kind = (None, schema) if isinstance(schema, type) else (schema, type(schema))
    for part in parts(key):
        kind, value = _step(kind, value, part)
        if kind is None:
            return None
    return kind


def type_name(kind: Any) -> str:
    if dataclasses.is_dataclass(kind):
        return f"a mapping of {kind.__name__}'s keys"
    if isinstance(kind, type) and not typing.get_args(kind):
        return kind.__name__
    return str(kind).replace("typing.", "")


def raw(data: Any, key: str) -> Any:
    """The value at ``key`` of plain ``data`` as written (interpolations unresolved), or None."""
    value = data
    for part in parts(key):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def shown(value: Any) -> str:
    """A value, short: lists and mappings by their size and keys."""
    if isinstance(value, list):
        return f"a list ({len(value)} items)"
    if isinstance(value, Mapping):
        return f"a mapping (keys {', '.join(map(str, list(value)[:6]))})"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def misfit(kind: Any, value: Any, instance: Any = None, key: str = "") -> str | None:
    """The first key below ``key`` whose value has the wrong shape for the schema (a list where
    a mapping belongs, or the reverse): OmegaConf names no key for those."""
    kind = optional_inner(kind)
    if value is None or kind in (None, Any) or (isinstance(value, str) and "${" in value):
        return None
    if dataclasses.is_dataclass(kind) or typing.get_origin(kind) is dict:
        if not isinstance(value, Mapping):
            return key
        children = [(str(k), f"{key}.{k}".lstrip("."), v) for k, v in value.items()]
    elif typing.get_origin(kind) is list:
        if not isinstance(value, list):
            return key
        if not any(isinstance(v, list | Mapping) for v in value) and not _holds_containers(kind):
            return None
        children = [(str(i), f"{key}[{i}]", v) for i, v in enumerate(value)]
    else:
        return key if isinstance(value, list | Mapping) else None
    for part, path, child in children:
        child_kind, child_instance = _step(kind, instance, part)
        found = misfit(child_kind, child, child_instance, path)
        if found is not None:
            return found
    return None


def _holds_containers(kind: Any) -> bool:
    inner = optional_inner(typing.get_args(kind)[-1]) if typing.get_args(kind) else None
    return dataclasses.is_dataclass(inner) or typing.get_origin(inner) in (list, dict)
