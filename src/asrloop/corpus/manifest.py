"""The one manifest format: JSON lines, one row per clip (as NeMo uses).

Required fields: ``audio_filepath`` (relative to the manifest's folder), ``duration`` (seconds),
``text``. Optional: ``speaker``, ``voice``, ``source``, ``split``, ``id``, ``pred_text``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

REQUIRED_FIELDS = ("audio_filepath", "duration", "text")
MANIFEST_NAME = "manifest.jsonl"


class ManifestError(ValueError):
    """A manifest row that breaks the contract; the message names the file, line and field."""


def read_manifest(path: str | Path, require_text: bool = True) -> list[dict]:
    """Read a manifest; ``audio_filepath`` stays as written (see :func:`audio_path`)."""
    path = Path(path)
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ManifestError(f"{path}:{line_number}: not valid JSON ({error})") from error
            required = REQUIRED_FIELDS if require_text else REQUIRED_FIELDS[:2]
            for field in required:
                if field not in row:
                    raise ManifestError(f"{path}:{line_number}: missing field '{field}'")
            row["_manifest"] = str(path)
            row["_line"] = line_number
            rows.append(row)
    return rows


def audio_path(row: dict) -> Path:
    """Absolute path of a row's audio, resolved against its manifest's folder."""
    path = Path(row["audio_filepath"])
    if path.is_absolute() or "_manifest" not in row:
        return path
    return Path(row["_manifest"]).parent / path


def public_fields(row: dict) -> dict:
    """A row without the bookkeeping fields added by :func:`read_manifest`."""
    return {key: value for key, value in row.items() if not key.startswith("_")}


def write_manifest(path: str | Path, rows: Iterable[dict]) -> Path:
    """Write rows atomically (temp file + rename) with sorted keys, so output is byte-stable."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(public_fields(row), sort_keys=True, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def shard_manifests(root: str | Path) -> list[Path]:
    """All shard manifests below a corpus folder, in a stable order."""
    return sorted(Path(root).rglob(MANIFEST_NAME))


def iter_corpus(root: str | Path, splits: Iterable[str] | None = None) -> Iterator[dict]:
    """Rows of every shard below ``root``, optionally only the given splits."""
    wanted = set(splits) if splits is not None else None
    for manifest in shard_manifests(root):
        for row in read_manifest(manifest):
            if wanted is None or row.get("split") in wanted:
                yield row
