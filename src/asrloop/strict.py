"""Strict reading of files and requests people can edit: every value has its declared type.

:func:`check_types` walks a dataclass instance against its annotations: a ``bool`` field holds
``True``/``False`` (never ``"false"``), an ``int`` field an integer (not a bool), a ``float``
field a finite number, a ``str`` a string, and so on through ``list``/``tuple``/``dict``,
``X | None`` and nested dataclasses. The error names the place (file, row) and the field path.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import cache
from typing import Any, Union

from asrloop.errors import DataError

CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {chr(127)}
FORMULA_STARTS = ("=", "+", "-", "@")  # what a spreadsheet runs as a formula


class FieldTypeError(DataError):
    """A value of the wrong type (names the place and the field)."""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def check_types(instance: Any, where: str) -> Any:
    """``instance`` when every field holds its declared type, else :class:`FieldTypeError`."""
    _check(instance, type(instance), where, "")
    return instance


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def _fail(where: str, path: str, expected: str, value: Any) -> None:
    field = f"field '{path}'" if path else "the record"
    raise FieldTypeError(f"{where}: {field} expects {expected}, got {_describe(value)}")


def _check(value: Any, annotation: Any, where: str, path: str) -> None:
    if annotation is Any or annotation is object:
        _check_finite(value, where, path)
        return
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        for option in args:
            try:
                _check(value, option, where, path)
                return
            except FieldTypeError:
                continue
        _fail(where, path, " or ".join(_name(a) for a in args), value)
    if annotation is type(None):
        if value is not None:
            _fail(where, path, "null", value)
        return
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        if not isinstance(value, annotation):
            _fail(where, path, annotation.__name__, value)
        hints = _hints(annotation)
        for field in dataclasses.fields(annotation):
            if field.name in hints:
                name = f"{path}.{field.name}" if path else field.name
                _check(getattr(value, field.name), hints[field.name], where, name)
        return
    if annotation is bool:
        if not isinstance(value, bool):
            _fail(where, path, "true or false", value)
        return
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(where, path, "an integer", value)
        return
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            _fail(where, path, "a number", value)
        if not math.isfinite(value):
            _fail(where, path, "a finite number", value)
        return
    if annotation is str:
        if not isinstance(value, str):
            _fail(where, path, "a string", value)
        return
    if origin in (list, tuple) or annotation in (list, tuple):
        if not isinstance(value, list | tuple):
            _fail(where, path, "a list", value)
        items = args[:1] if origin is list or (len(args) == 2 and args[1] is Ellipsis) else args
        if origin is tuple and args and args[-1] is not Ellipsis and len(args) != len(value):
            _fail(where, path, f"{len(args)} items", value)
        for index, item in enumerate(value):
            item_type = items[0] if len(items) == 1 else (items[index] if items else Any)
            _check(item, item_type, where, f"{path}[{index}]")
        return
    if origin is dict or annotation is dict:
        if not isinstance(value, dict):
            _fail(where, path, "an object", value)
        key_type, value_type = args or (str, Any)
        for key, item in value.items():
            _check(key, key_type, where, f"{path} key")
            _check(item, value_type, where, f"{path}.{key}")
        return
    if isinstance(annotation, type) and not isinstance(value, annotation):
        _fail(where, path, annotation.__name__, value)


def _check_finite(value: Any, where: str, path: str) -> None:
    """Free-form values (``Any``) may nest, but hold no NaN or infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        _fail(where, path, "a finite number", value)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, where, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, where, f"{path}[{index}]")


def _name(annotation: Any) -> str:
    return "null" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))


def clean_text(
    value: str, where: str, field: str, max_chars: int, spreadsheet: bool = False
) -> str:
    """``value`` when it is at most ``max_chars`` long, holds no control characters and (for a
    field a spreadsheet opens, ``spreadsheet``) does not start like a formula."""
    if len(value) > max_chars:
        raise DataError(f"{where}: field '{field}' is {len(value)} characters, at most {max_chars}")
    bad = sorted({c for c in value if c in CONTROL})
    if bad:
        raise DataError(f"{where}: field '{field}' holds control characters {bad}")
    if spreadsheet and value.lstrip().startswith(FORMULA_STARTS):
        raise DataError(
            f"{where}: field '{field}' starts with {value.lstrip()[0]!r}, which a spreadsheet "
            "runs as a formula"
        )
    return value
