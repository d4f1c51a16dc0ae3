"""Lhotse manifests (read by lhotse): ``*recordings*.jsonl[.gz]`` with ``*supervisions*`` beside
it, or a ``*cuts*.jsonl[.gz]`` CutSet; ``path`` is one such file or a folder of them. The split
comes from the file name (``..._supervisions_dev-clean.jsonl.gz`` -> dev). Only audio sources of
type "file" are read; "command" sources run a shell and need
``corpus.importer.allow_shell_commands=true``; URLs and in-memory audio are refused."""

from __future__ import annotations

import re
from pathlib import Path

from asrloop.corpus.importer.clip import (
    COMMAND,
    FILE,
    CorpusImportError,
    ReaderOptions,
    SourceClip,
    refuse_command,
    resolve_audio,
)

PATTERN = re.compile(r"(recordings|supervisions|cuts)")


def manifest_files(path: Path) -> list[Path]:
    files = [path] if path.is_file() else sorted(path.glob("*.jsonl*"))
    return [f for f in files if PATTERN.search(f.name)]


def detect(path: Path) -> bool:
    return path.exists() and bool(manifest_files(path))


def _source(recording, channel, where: str, options: ReaderOptions, base: Path):
    """(kind, path or command, channel index within that source or None to mix)."""
    sources = recording.sources
    if isinstance(channel, int) and len(sources) > 1:
        sources = [s for s in sources if channel in s.channels] or sources
    source = sources[0]
    index = None
    if isinstance(channel, int) and recording.num_channels > 1:
        index = source.channels.index(channel) if channel in source.channels else channel
    if source.type == FILE:
        return FILE, resolve_audio(source.source, Path.cwd(), base), index
    if source.type == COMMAND:
        refuse_command(where, source.source, options)
        return COMMAND, source.source, index
    raise CorpusImportError(f"{where}: audio source of type {source.type!r} is not supported")


def _clip(sup, recording, start, where, split, options, base) -> SourceClip:
    kind, audio, index = _source(recording, sup.channel, where, options, base)
    return SourceClip(
        id=sup.id,
        audio=audio,
        text=sup.text,
        origin=where,
        speaker=sup.speaker or "",
        split=split,
        offset=float(start),
        duration=float(sup.duration),
        channel=index,
        kind=kind,
        extra={k: v for k, v in (("language", sup.language), ("gender", sup.gender)) if v},
    )


def _split_of(name: str) -> str:
    stem = PATTERN.split(name.split(".jsonl")[0])[-1]
    return stem.strip("_-.")


def read(path: Path, options: ReaderOptions) -> list[SourceClip]:
    from lhotse import load_manifest

    files = manifest_files(path)
    if not files:
        raise CorpusImportError(
            f"{path}: no lhotse manifest (*recordings*, *supervisions*, *cuts*)"
        )
    clips = []
    for file in (f for f in files if "recordings" not in f.name):
        base, split = file.parent, _split_of(file.name)
        if "cuts" in file.name:
            for cut in load_manifest(file):
                for sup in cut.supervisions:
                    where = f"{file} {cut.id}/{sup.id}"
                    start = cut.start + sup.start
                    clips.append(_clip(sup, cut.recording, start, where, split, options, base))
            continue
        recordings_file = file.with_name(file.name.replace("supervisions", "recordings"))
        if not recordings_file.is_file():
            raise CorpusImportError(f"{file}: no {recordings_file.name} beside it")
        recordings = load_manifest(recordings_file)
        for sup in load_manifest(file):
            where = f"{file} {sup.id}"
            if sup.recording_id not in recordings:
                raise CorpusImportError(
                    f"{where}: recording {sup.recording_id!r} not in {recordings_file}"
                )
            recording = recordings[sup.recording_id]
            clips.append(_clip(sup, recording, sup.start, where, split, options, base))
    return clips
