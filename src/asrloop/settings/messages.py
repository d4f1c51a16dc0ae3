"""One sentence per config failure: the key, where it came from, what is wrong, the fix."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from asrloop.settings.common import schema_fields
from asrloop.settings.keys import (
    FREE_FORM_CHECKS,
    field_type,
    misfit,
    optional_inner,
    raw,
    shown,
    type_name,
    within,
)
from asrloop.settings.origin import Origin
from asrloop.settings.scenario import LAYOUT_HINTS

HINTS: dict[str, str] = {**LAYOUT_HINTS}  # key -> the fix, where the general one is not enough
HIDDEN_FIELDS = ("_target_", "_partial_")  # never suggested as a spelling


class ChoiceError(OmegaConfBaseException):
    """A value that must be one of a few names (it picks a schema)."""

    def __init__(self, key: str, value: Any, choices: Sequence[str]):
        super().__init__(f"{value!r} is not one of {', '.join(choices)}")
        self.full_key, self.value, self.choices = key, value, choices


class PartialError(OmegaConfBaseException):
    """An error inside a free-form node, its key made absolute."""

    def __init__(self, path: str, error: OmegaConfBaseException):
        super().__init__(str(getattr(error, "msg", error)))
        self.full_key = f"{path}.{getattr(error, 'full_key', '')}".rstrip(".")
        self.unknown = isinstance(error, ConfigKeyError)


def hint(key: str) -> str | None:
    return next((text for k, text in HINTS.items() if within(key, k)), None)


def message(error: OmegaConfBaseException, schema: object, data: Mapping, origin: Origin) -> str:
    """The message for an error of the merge into ``schema`` of plain ``data``."""
    key = str(getattr(error, "full_key", "") or "") or misfit(type(schema), data, schema) or ""
    where = origin.where(key) if key else origin.source
    if isinstance(error, ChoiceError):
        close = difflib.get_close_matches(str(error.value), error.choices, n=1, cutoff=0.5)
        guess = f" (did you mean {close[0]}?)" if close else ""
        return (
            f"config key {key} is {error.value!r}{guess}, in {where}. "
            f"Fix: one of {', '.join(error.choices)}."
        )
    if isinstance(error, ConfigKeyError) or getattr(error, "unknown", False):
        return unknown_message(key, schema, where)
    expected = field_type(schema, key)
    wanted = f"expects {type_name(expected)}" if expected is not None else "is invalid"
    fix = hint(key) or (
        f"set {key} to a value of type {type_name(expected)}" if expected else "correct it"
    )
    said = "" if expected is not None else f" ({_first_line(error)})"  # OmegaConf's words
    got = shown(raw(data, key))
    return f"config key {key} {wanted}, got {got}, in {where}{said}. Fix: {fix}."


def _first_line(error: OmegaConfBaseException) -> str:
    said = str(getattr(error, "msg", error)).splitlines()[0]
    return said if len(said) <= 100 else said[:97] + "..."


def unknown_message(key: str, schema: object, where: str) -> str:
    parent, _, leaf = key.rpartition(".")
    check = FREE_FORM_CHECKS.get(parent)
    owner = check.schema if check else field_type(schema, parent) if parent else schema
    siblings = [s for s in schema_fields(optional_inner(owner)) if s not in HIDDEN_FIELDS]
    close = difflib.get_close_matches(leaf, siblings, n=1, cutoff=0.5)
    full = f"{parent}.{close[0]}" if parent and close else (close[0] if close else "")
    guess = f" (did you mean {full}?)" if full else ""
    fix = hint(key) or (
        f"rename it to {full}, or remove it"
        if full
        else f"remove it ({parent or 'the root'} has {', '.join(siblings)})"
    )
    return f"unknown config key {key}{guess}, in {where}. Fix: {fix}."


def missing_message(keys: list[str], data: Mapping, origin: Origin) -> str:
    key = keys[0]
    state = "is ??? (it must be given)" if raw(data, key) == "???" else "is missing"
    others = f" (also missing: {', '.join(keys[1:4])}{'...' if len(keys) > 4 else ''})"
    fix = hint(key) or f"set it in that file, or on the command line ({key}=<value>)"
    return (
        f"config key {key} {state}, in {origin.where(key)}{others if len(keys) > 1 else ''}. "
        f"Fix: {fix}."
    )
