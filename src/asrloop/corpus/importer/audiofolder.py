"""Hugging Face ``audiofolder``: audio files with a ``metadata.csv`` or ``metadata.jsonl`` whose
``file_name`` column is relative to it, a transcript column (``transcription``, ``text``,
``sentence`` or ``transcript``) and optionally a speaker column. Split folders (``train/``,
``test/``...) below ``path`` are the splits. Read here: ``datasets``' own loader needs torchcodec
to decode audio, which this stack does not have."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from asrloop.corpus.importer.clip import CorpusImportError, ReaderOptions, SourceClip, resolve_audio
from asrloop.jsonio import iter_jsonl

METADATA = ("metadata.csv", "metadata.jsonl")
TEXT_COLUMNS = ("transcription", "text", "sentence", "transcript")
SPEAKER_COLUMNS = ("speaker_id", "speaker", "client_id")


def metadata_files(path: Path) -> list[Path]:
    return sorted(p for name in METADATA for p in path.rglob(name))


def detect(path: Path) -> bool:
    return path.is_dir() and bool(metadata_files(path))


def records(metadata: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each row of a metadata file."""
    if metadata.suffix == ".csv":
        with metadata.open(encoding="utf-8", newline="") as handle:
            yield from enumerate(csv.DictReader(handle), start=2)
        return
    yield from iter_jsonl(metadata)


def transcripts(metadata: Path) -> Iterator[tuple[str, str | None, str, dict]]:
    """(audio path, text, origin, record) per row; the text is None when the row has none."""
    for number, record in records(metadata):
        where = f"{metadata}:{number}"
        if not record.get("file_name"):
            raise CorpusImportError(f"{where}: no 'file_name'")
        text_column = next((c for c in TEXT_COLUMNS if c in record), None)
        text = record[text_column] if text_column else None
        yield resolve_audio(record["file_name"], metadata.parent), text, where, record


def read(path: Path, options: ReaderOptions) -> list[SourceClip]:
    found = metadata_files(path)
    if not found:
        raise CorpusImportError(f"{path}: no {' or '.join(METADATA)}")
    clips = []
    for metadata in found:
        relative = metadata.parent.relative_to(path).parts
        split = relative[0] if relative else ""
        for audio, text, where, record in transcripts(metadata):
            speaker = next((str(record[c]) for c in SPEAKER_COLUMNS if record.get(c)), "")
            name = Path(audio).relative_to(path) if Path(audio).is_relative_to(path) else audio
            clips.append(
                SourceClip(
                    id="-".join(Path(name).with_suffix("").parts),
                    audio=audio,
                    text=text,
                    origin=where,
                    speaker=speaker,
                    split=split,
                )
            )
    return clips
