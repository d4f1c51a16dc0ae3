"""The one manifest format: JSON lines, one :class:`Utterance` per line (as NeMo uses).

Required fields: ``audio_filepath`` (relative to the manifest's folder), ``duration`` (seconds),
``text`` (drops may leave it out). Known optional fields: ``id``, ``speaker``, ``voice``,
``split``, ``source``, ``offset`` (seconds into the audio file where the clip starts: the clip is
then ``duration`` seconds of a longer file, as NeMo writes segments). Any other field
(``provenance``, ``pred_text``...) is kept as written in :attr:`Utterance.extra`.
This module is the only place that reads or writes a row's fields.

>>> u = Utterance.from_dict({"audio_filepath": "a.wav", "duration": 1.5, "text": "hello"})
>>> u.id, u.is_grown, u.to_dict()["duration"]
('a', False, 1.5)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asrloop.artifacts import MANIFEST
from asrloop.errors import DataError
from asrloop.fsutil import inside
from asrloop.jsonio import iter_jsonl, write_jsonl

DVC_CACHE = "/.dvc/cache/"  # a DVC checkout with cache.type=symlink links audio there


def within_shard(path: str, shard: Path) -> bool:
    """Whether ``path`` (relative to ``shard``) stays inside it once links are followed; a link
    into a DVC cache (``cache.type=symlink``) counts as inside."""
    if inside(path, shard) is not None:
        return True
    target = shard / path
    return target.is_symlink() and DVC_CACHE in str(target.resolve())


REQUIRED_FIELDS = ("audio_filepath", "duration", "text")
RECOMMENDED_FIELDS = ("id", "speaker", "source")
MANIFEST_NAME = MANIFEST  # the name many modules import from here
GROWN_SOURCE_PREFIX = "drop/"  # rows grown from a production drop: source "drop/<drop name>"
SPLITS = ("train", "dev", "test", "regression", "test_neural")
EVAL_SPLITS = ("test", "regression", "test_neural")  # never trained on
_KNOWN = (
    "id",
    "audio_filepath",
    "duration",
    "text",
    "speaker",
    "voice",
    "split",
    "source",
    "offset",
)


class ManifestError(DataError):
    """A manifest row that breaks the contract; the message names the file, line and field."""


@dataclass(frozen=True)
class Utterance:
    """One clip of a manifest, with where it was read from (``manifest``, ``line``)."""

    id: str
    audio_filepath: str
    duration: float
    text: str | None = None
    speaker: str = ""
    voice: str = ""
    split: str = ""
    source: str = ""
    offset: float | None = None  # None: the clip is the whole file
    extra: Mapping[str, Any] = field(default_factory=dict)
    manifest: Path | None = field(default=None, compare=False, repr=False)
    line: int = field(default=0, compare=False, repr=False)

    # -- reading and writing -------------------------------------------------------------------
    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        manifest: str | Path | None = None,
        line: int = 0,
        require_text: bool = True,
        contained: bool = False,
    ) -> Utterance:
        """A row as read from JSON; raises :class:`ManifestError` naming file, line and field.

        ``contained``: the audio must lie inside the manifest's folder (corpus shards)."""
        where = f"{manifest or '<row>'}:{line}"
        errors = field_errors(data, require_text, contained=contained)
        if errors:
            raise ManifestError(f"{where}: {errors[0]}")
        path = str(data["audio_filepath"])
        if contained and manifest is not None and not within_shard(path, Path(manifest).parent):
            raise ManifestError(
                f"{where}: field 'audio_filepath': {path!r} leads out of the shard (a link?)"
            )
        return cls(
            id=str(data.get("id") or Path(path).stem),
            audio_filepath=path,
            duration=float(data["duration"]),
            text=data.get("text"),
            speaker=str(data.get("speaker") or ""),
            voice=str(data.get("voice") or ""),
            split=str(data.get("split") or ""),
            source=str(data.get("source") or ""),
            offset=float(data["offset"]) if data.get("offset") is not None else None,
            extra={k: v for k, v in data.items() if k not in _KNOWN},
            manifest=Path(manifest) if manifest is not None else None,
            line=line,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON row: known fields that are set, then ``extra`` (provenance is not written)."""
        row: dict[str, Any] = {
            "id": self.id,
            "audio_filepath": self.audio_filepath,
            "duration": self.duration,
        }
        if self.text is not None:
            row["text"] = self.text
        for name in ("speaker", "voice", "split", "source"):
            if getattr(self, name):
                row[name] = getattr(self, name)
        if self.offset is not None:
            row["offset"] = self.offset
        return {**row, **self.extra}

    def replace(self, **changes: Any) -> Utterance:
        return dataclasses.replace(self, **changes)

    # -- derived facts ---------------------------------------------------------------------------
    @property
    def audio_path(self) -> Path:
        """Absolute path of the audio, resolved against the manifest's folder."""
        path = Path(self.audio_filepath)
        if path.is_absolute() or self.manifest is None:
            return path
        return self.manifest.parent / path

    @property
    def segment(self) -> tuple[float, float | None]:
        """(offset, duration) of the clip within its file; (0, None) for the whole file."""
        return (0.0, None) if self.offset is None else (self.offset, self.duration)

    @property
    def where(self) -> str:
        """``<manifest>:<line>``: how messages name the row."""
        return f"{self.manifest or '<row>'}:{self.line}"

    def where_in(self, root: str | Path) -> str:
        """``<manifest relative to root>:<line> <id>``: how data-check findings name the row."""
        manifest = self.manifest
        if manifest is not None and manifest.is_relative_to(root):
            manifest = manifest.relative_to(root)
        return f"{manifest.as_posix() if manifest else '<row>'}:{self.line} {self.id}"

    @property
    def is_grown(self) -> bool:
        """A row grown from a production drop (approved review corrections)."""
        return self.source.startswith(GROWN_SOURCE_PREFIX)

    @property
    def has_text(self) -> bool:
        return bool(self.text and self.text.strip())


def field_errors(
    data: Mapping[str, Any],
    require_text: bool = True,
    required: Iterable[str] = (),
    splits: Iterable[str] = (*SPLITS, "drop"),
    contained: bool = False,
) -> list[str]:
    """What makes a raw row unusable: missing required fields, wrong types, unknown split, and
    (``contained``) an audio path that leaves the manifest's folder."""
    wanted = [*(REQUIRED_FIELDS if require_text else REQUIRED_FIELDS[:2]), *required]
    errors = [f"missing field '{name}'" for name in wanted if name not in data]
    duration = data.get("duration", 1.0)
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
        errors.append(f"field 'duration': {duration!r} is not a positive number")
    if data.get("text") is not None and not isinstance(data["text"], str):
        errors.append(f"field 'text': {data['text']!r} is not a string")
    offset = data.get("offset", 0.0)
    if offset is not None and (
        isinstance(offset, bool) or not isinstance(offset, int | float) or offset < 0
    ):
        errors.append(f"field 'offset': {offset!r} is not a number of seconds >= 0")
    if not isinstance(data.get("audio_filepath", ""), str):
        errors.append(f"field 'audio_filepath': {data['audio_filepath']!r} is not a string")
    if "split" in data and data["split"] not in tuple(splits):
        errors.append(f"field 'split': unknown split {data['split']!r}")
    path = data.get("audio_filepath")
    if (
        contained
        and isinstance(path, str)
        and (Path(path).is_absolute() or ".." in Path(path).parts)
    ):
        errors.append(f"field 'audio_filepath': {path!r} leaves the shard (relative paths only)")
    return errors


def field_warnings(data: Mapping[str, Any]) -> list[str]:
    return [f"missing field '{name}'" for name in RECOMMENDED_FIELDS if name not in data]


def read_manifest(
    path: str | Path, require_text: bool = True, contained: bool = False
) -> list[Utterance]:
    """Every row of a manifest; the first bad row raises :class:`ManifestError`.
    ``contained``: audio paths must stay inside the manifest's folder (shards, drops)."""
    return [
        Utterance.from_dict(data, path, number, require_text, contained)
        for number, data in iter_jsonl(path)
    ]


@dataclass
class ManifestScan:
    """A lenient read for the data checks: usable rows plus every problem found on the way."""

    rows: list[Utterance] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # ``<where>: <problem>``
    warnings: list[str] = field(default_factory=list)


def scan_manifests(
    root: str | Path, required: Iterable[str] = (), splits: Iterable[str] = SPLITS
) -> ManifestScan:
    """Read every manifest below ``root``, collecting bad lines instead of stopping at one.

    ``required`` names fields needed beyond the contract's; ``splits`` the valid split names."""
    import json

    root = Path(root)
    scan = ManifestScan()
    for manifest in shard_manifests(root):
        where = manifest.relative_to(root).as_posix()
        for number, line in enumerate(manifest.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                scan.errors.append(f"{where}:{number}: not valid JSON ({error})")
                continue
            if not isinstance(data, dict):
                scan.errors.append(f"{where}:{number}: not a JSON object")
                continue
            clip = f" {data['id']}" if data.get("id") else ""
            errors = field_errors(data, True, required, splits, contained=True)
            scan.errors += [f"{where}:{number}{clip}: {e}" for e in errors]
            scan.warnings += [f"{where}:{number}{clip}: {w}" for w in field_warnings(data)]
            if not errors:
                scan.rows.append(Utterance.from_dict(data, manifest, number))
    return scan


def write_manifest(path: str | Path, rows: Iterable[Utterance]) -> Path:
    """Write rows atomically with sorted keys, so the same rows give the same bytes."""
    return write_jsonl(path, (row.to_dict() for row in rows))


def shard_manifests(root: str | Path) -> list[Path]:
    """All shard manifests below a corpus folder, in a stable order."""
    return sorted(Path(root).rglob(MANIFEST_NAME))


def iter_corpus(root: str | Path, splits: Iterable[str] | None = None) -> Iterator[Utterance]:
    """Rows of every shard below ``root``, optionally only the given splits."""
    wanted = set(splits) if splits is not None else None
    for manifest in shard_manifests(root):
        for row in read_manifest(manifest, contained=True):
            if wanted is None or row.split in wanted:
                yield row
