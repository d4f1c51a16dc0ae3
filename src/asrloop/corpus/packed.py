"""Packed corpora: a corpus as tar shards that training streams (the WebDataset layout).

A packed corpus is one folder (``asrloop corpus pack``; DVC tracks it and pushes it to the
remote, so a training machine needs no local copy):

- ``<split>-<corpus shard folder>-NNNN.tar``: per clip ``<key>.wav`` (its audio) and
  ``<key>.json`` (its row), in manifest order; each corpus shard folder's rows of a split in
  shards of their own (a grown corpus repacks only its new folder); written deterministically
  (fixed owners and times), so the same rows give the same bytes;
- ``<same name>.jsonl``: the shard's manifest in the one manifest format
  (:mod:`asrloop.corpus.manifest`), ``audio_filepath`` naming the member, plus ``samples`` (the
  clip's length at 16 kHz): training plans every epoch's batches from the manifests alone;
- ``index.json``: the shards in order, each with its split, clips, seconds, tar digest, and the
  corpus folder (and the digest of its manifest) it was packed from.

Shards are read through a :class:`ShardStore`: the folder itself, or the project's DVC remote
(``dvc.api.DVCFileSystem``: S3 objects opened as streams, nothing copied to the local cache).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import BinaryIO

import soundfile as sf

from asrloop.artifacts import PACKED_INDEX, PACKED_MANIFEST_SUFFIX, PACKED_ROW_SUFFIX
from asrloop.audio.io import SAMPLE_RATE, AudioError, decode_audio, read_audio, resample
from asrloop.corpus.manifest import Utterance
from asrloop.errors import DataError
from asrloop.fsutil import recover_dir, replace_dir
from asrloop.jsonio import write_jsonl

INDEX = PACKED_INDEX
FORMAT = "asrloop-packed/1"
SAMPLES_FIELD = "samples"  # a packed row's length in samples at 16 kHz
MAX_CLIP_BYTES = 64 * 1024 * 1024  # no training clip is this long; a bigger member is refused


class PackedCorpusError(DataError):
    """A packed corpus that breaks its contract; the message names the file and the field."""


@dataclass(frozen=True)
class PackedShard:
    name: str
    split: str
    clips: int
    seconds: float
    sha256: str  # of the tar
    source: str = ""  # the corpus shard folder its rows come from (relative to the corpus)
    source_digest: str = ""  # of that folder's manifest, the split and the shard size

    @property
    def tar(self) -> str:
        return f"{self.name}.tar"

    @property
    def manifest(self) -> str:
        return self.name + PACKED_MANIFEST_SUFFIX


@dataclass(frozen=True)
class PackedIndex:
    shards: tuple[PackedShard, ...]
    skipped: tuple[str, ...] = ()  # rows left out at packing (unreadable audio), by name

    def split(self, split: str) -> list[PackedShard]:
        return [shard for shard in self.shards if shard.split == split]

    def digest(self) -> str:
        """What the packed data is: the tars' digests in order."""
        return hashlib.sha256("".join(s.sha256 for s in self.shards).encode()).hexdigest()[:16]

    def to_json(self) -> str:
        shards = [asdict(shard) for shard in self.shards]
        body = {"format": FORMAT, "shards": shards, "skipped": list(self.skipped)}
        return json.dumps(body, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> PackedIndex:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise PackedCorpusError(f"{where}: not JSON ({error})") from error
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise PackedCorpusError(
                f"{where}: field 'format' is {found!r}, expected {FORMAT!r} (repack the corpus: "
                "asrloop corpus pack)"
            )
        shards = []
        for number, entry in enumerate(data.get("shards") or []):
            try:
                shards.append(
                    PackedShard(
                        name=str(entry["name"]),
                        split=str(entry["split"]),
                        clips=int(entry["clips"]),
                        seconds=float(entry["seconds"]),
                        sha256=str(entry["sha256"]),
                        source=str(entry.get("source") or ""),
                        source_digest=str(entry.get("source_digest") or ""),
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                raise PackedCorpusError(
                    f"{where}: shards[{number}]: missing or bad field {error}"
                ) from error
            if "/" in shards[-1].name or shards[-1].name.startswith("."):
                raise PackedCorpusError(f"{where}: shards[{number}].name {entry['name']!r}")
        return cls(tuple(shards), tuple(str(s) for s in data.get("skipped") or []))


# -- writing ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PackedClip:
    """A clip's bytes for the tar and its length at 16 kHz."""

    data: bytes
    samples: int


def packed_clip(row: Utterance) -> PackedClip:
    """The clip's audio as it goes into a tar: the file's own bytes, or (a segment of a longer
    file) the segment as float WAV, which decodes to exactly the samples the folder gives."""
    if row.offset is None:  # the file as it is: read once, decoded for its length
        try:
            data = row.audio_path.read_bytes()
        except OSError as error:  # missing or unreadable: reported and left out, as before
            raise AudioError(f"{row.audio_path}: cannot read audio ({error})") from error
        audio, rate = decode_audio(data, str(row.audio_path), target_rate=None)
    else:
        audio, rate = read_audio(row.audio_path, target_rate=None, segment=row.segment)
    samples = len(audio) if rate == SAMPLE_RATE else len(resample(audio, rate, SAMPLE_RATE))
    if row.offset is None:
        return PackedClip(data, samples)
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, subtype="FLOAT", format="WAV")
    return PackedClip(buffer.getvalue(), samples)


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def write_shard(
    folder: Path, name: str, split: str, rows: Sequence[Utterance], skipped: list[str]
) -> PackedShard:
    """Write ``<name>.tar`` and its manifest of ``rows`` (unreadable clips reported in
    ``skipped`` and left out)."""
    packed_rows, seconds = [], 0.0
    with tarfile.open(folder / f"{name}.tar", "w", format=tarfile.PAX_FORMAT) as tar:
        for number, row in enumerate(rows):
            try:
                clip = packed_clip(row)
            except AudioError as error:
                skipped.append(f"{row.where} ({row.audio_filepath}): {error}")
                continue
            key = f"{name}-{number:06d}"
            packed = row.replace(
                audio_filepath=f"{key}.wav",
                offset=None,
                extra={**row.extra, SAMPLES_FIELD: clip.samples},
            )
            body = json.dumps(packed.to_dict(), sort_keys=True, ensure_ascii=False).encode()
            _add_member(tar, f"{key}.wav", clip.data)
            _add_member(tar, key + PACKED_ROW_SUFFIX, body)
            packed_rows.append(packed.to_dict())
            seconds += clip.samples / SAMPLE_RATE
    write_jsonl(folder / (name + PACKED_MANIFEST_SUFFIX), packed_rows)
    digest = hashlib.sha256((folder / f"{name}.tar").read_bytes()).hexdigest()
    return PackedShard(name, split, len(packed_rows), round(seconds, 3), digest)


@dataclass(frozen=True)
class SourceGroup:
    """A split's rows of one corpus shard folder: packed into shards of their own, so a corpus
    that grows by a shard repacks only that shard."""

    source: str  # the folder, relative to the corpus
    split: str
    rows: list[Utterance]

    def digest(self, clips_per_shard: int) -> str:
        manifest = self.rows[0].manifest
        data = manifest.read_bytes() if manifest is not None and manifest.exists() else b""
        text = json.dumps([FORMAT, self.source, self.split, clips_per_shard]).encode()
        return hashlib.sha256(text + data).hexdigest()[:16]

    @property
    def stem(self) -> str:
        return f"{self.split}-" + self.source.replace("/", "_")


def source_groups(
    rows_by_split: Mapping[str, Sequence[Utterance]], corpus: Path
) -> list[SourceGroup]:
    """Each split's rows grouped by the corpus shard folder they come from, in row order."""
    groups: list[SourceGroup] = []
    for split, rows in rows_by_split.items():
        for row in rows:
            folder = row.manifest.parent if row.manifest is not None else corpus
            source = folder.relative_to(corpus).as_posix() if folder.is_relative_to(corpus) else "."
            if not groups or (groups[-1].source, groups[-1].split) != (source, split):
                groups.append(SourceGroup(source, split, []))
            groups[-1].rows.append(row)
    return groups


def pack_corpus(
    rows_by_split: Mapping[str, Sequence[Utterance]],
    folder: Path,
    clips_per_shard: int,
    corpus: Path,
    on_shard: Callable[[int], None] | None = None,
) -> PackedIndex:
    """Pack the rows of the corpus at ``corpus`` into ``folder``: each corpus shard folder's rows
    of a split into shards of at most ``clips_per_shard`` clips, in row order. A group packed
    before from the same manifest is kept as it was (linked, not rewritten). ``folder`` is
    replaced whole, atomically: an interrupted pack leaves the previous one intact.
    ``on_shard(clips)`` after each group."""
    if clips_per_shard < 1:
        raise PackedCorpusError(f"train_data.clips_per_shard={clips_per_shard}: must be >= 1")
    recover_dir(folder)
    previous = _previous_groups(folder)
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shards, skipped = [], []
    for group in source_groups(rows_by_split, corpus):
        digest = group.digest(clips_per_shard)
        kept = previous.get((group.source, group.split, digest))
        if kept is not None:
            for shard in kept:
                for name in (shard.tar, shard.manifest):
                    _link_or_copy(folder / name, tmp / name)
            shards += kept
        else:
            for start in range(0, len(group.rows), clips_per_shard):
                name = f"{group.stem}-{start // clips_per_shard:04d}"
                chunk = group.rows[start : start + clips_per_shard]
                shard = write_shard(tmp, name, group.split, chunk, skipped)
                shards.append(replace(shard, source=group.source, source_digest=digest))
        if on_shard:
            on_shard(len(group.rows))
    index = PackedIndex(tuple(shards), tuple(skipped))
    (tmp / INDEX).write_text(index.to_json(), encoding="utf-8")
    replace_dir(tmp, folder)
    return index


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a filesystem without hard links
        shutil.copy2(source, target)


def _previous_groups(folder: Path) -> dict[tuple[str, str, str], list[PackedShard]]:
    """The shards of the packed corpus already in ``folder`` by (source, split, digest): only
    groups whose every file is there (anything else is packed again)."""
    try:
        index = PackedIndex.from_json((folder / INDEX).read_text(encoding="utf-8"), "")
    except (OSError, PackedCorpusError):
        return {}
    groups: dict[tuple[str, str, str], list[PackedShard]] = {}
    for shard in index.shards:
        if shard.source_digest:
            groups.setdefault((shard.source, shard.split, shard.source_digest), []).append(shard)
    return {
        key: kept
        for key, kept in groups.items()
        if all((folder / s.tar).exists() and (folder / s.manifest).exists() for s in kept)
    }


# -- reading ---------------------------------------------------------------------------------
class ShardStore:
    """Opens a packed corpus's files: from ``folder`` itself, or (``remote`` named) streamed
    from that DVC remote of the project at ``root`` (the folder tracked there)."""

    def __init__(self, folder: Path, root: Path, remote: str | None = None):
        self.folder, self.root, self.remote = Path(folder), Path(root), remote
        self._fs = None

    def describe(self) -> str:
        where = f"DVC remote {self.remote!r}" if self.remote else "local folder"
        return f"{self.folder} ({where})"

    def open(self, name: str) -> BinaryIO:
        if self.remote is None:
            path = self.folder / name
            if not path.exists():
                raise PackedCorpusError(
                    f"{path}: not found (pack the corpus first: asrloop corpus pack; or stream "
                    "it from the DVC remote: train_data.remote=<name>)"
                )
            return path.open("rb")
        return self.fs.open(self._repo_path(name), "rb")

    def read_text(self, name: str) -> str:
        with self.open(name) as handle:
            return handle.read().decode("utf-8")

    @property
    def fs(self):
        if self._fs is None:
            from dvc.api import DVCFileSystem

            self._fs = DVCFileSystem(str(self.root), remote=self.remote)
        return self._fs

    def _repo_path(self, name: str) -> str:
        folder = self.folder.resolve()
        if not folder.is_relative_to(self.root.resolve()):
            raise PackedCorpusError(
                f"{self.folder}: a packed corpus streamed from a DVC remote must lie inside the "
                f"project ({self.root})"
            )
        return (folder.relative_to(self.root.resolve()) / name).as_posix()

    def index(self) -> PackedIndex:
        return PackedIndex.from_json(self.read_text(INDEX), str(self.folder / INDEX))

    def rows(self, shard: PackedShard) -> list[Utterance]:
        """The shard's manifest rows (``samples`` checked: planning needs it)."""
        where = self.folder / shard.manifest
        rows = []
        for line, text in enumerate(self.read_text(shard.manifest).splitlines(), start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                raise PackedCorpusError(f"{where}:{line}: not JSON ({error})") from error
            row = Utterance.from_dict(data, where, line, require_text=False)
            if not isinstance(data.get(SAMPLES_FIELD), int) or data[SAMPLES_FIELD] < 0:
                raise PackedCorpusError(
                    f"{where}:{line}: field {SAMPLES_FIELD!r} must be a count of samples"
                )
            rows.append(row)
        return rows

    def audio(self, shard: PackedShard) -> Iterator[tuple[str, bytes]]:
        """(member name, bytes) of each clip's audio in the tar, in order, as it streams; a
        member larger than :data:`MAX_CLIP_BYTES` gives empty bytes (unreadable, reported by the
        reader) instead of filling memory. Nothing is extracted to disk."""
        with self.open(shard.tar) as handle, tarfile.open(fileobj=handle, mode="r|") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".wav"):
                    if member.size > MAX_CLIP_BYTES:
                        yield member.name, b""
                        continue
                    extracted = tar.extractfile(member)
                    if extracted is not None:
                        yield member.name, extracted.read()


def samples_of(row: Utterance) -> int:
    return int(row.extra[SAMPLES_FIELD])
