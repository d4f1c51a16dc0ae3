"""JSON and JSON-lines files, written atomically (temp file + rename, so a kill leaves the old
file or the new one, never half of one) and read with errors that name the file and line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from asrloop.errors import DataError


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temp file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def write_json(path: str | Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


class NonFiniteNumber(ValueError):
    """``NaN`` or ``Infinity`` in a JSON file (not JSON, though Python writes it)."""


def _refuse_constant(name: str) -> Any:
    raise NonFiniteNumber(f"{name} is not a number JSON allows")


def parse_json(text: str, where: str) -> Any:
    """``text`` as JSON; NaN, Infinity and bad syntax raise :class:`DataError` naming ``where``."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, NonFiniteNumber, RecursionError) as error:
        reason = "nested too deep" if isinstance(error, RecursionError) else str(error)
        raise DataError(f"{where}: not valid JSON ({reason})") from error


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error})") from error
    return parse_json(text, str(path))


def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """One JSON object per line, keys sorted, so the same rows give the same bytes."""
    lines = [json.dumps(dict(row), sort_keys=True, ensure_ascii=False) + "\n" for row in rows]
    return atomic_write_text(path, "".join(lines))


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line; a bad line raises :class:`DataError`."""
    path = Path(path)
    with path.open(encoding="utf-8-sig") as handle:
        number = 0
        while True:
            try:
                line = handle.readline()
            except UnicodeDecodeError as error:
                raise DataError(f"{path}:{number + 1}: not UTF-8 text ({error})") from error
            if not line:
                return
            number += 1
            if not line.strip():
                continue
            data = parse_json(line, f"{path}:{number}")
            if not isinstance(data, dict):
                raise DataError(f"{path}:{number}: not a JSON object")
            yield number, data
