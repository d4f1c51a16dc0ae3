"""``asrloop drop import``: a folder of your own production audio becomes a drop.

Any audio soundfile reads (WAV, FLAC, MP3, OGG/Opus; any rate, any channels), in subfolders
too, becomes ``data/drops/<scenario.drop.name>/``: 16 kHz mono WAV and a manifest without text
(provenance: source file, original rate and channels), like ``asrloop drop synth`` makes, so
the loop serves, monitors and triages it. Optional references (what was really said) sit in the
folder as ``metadata.csv`` or ``metadata.jsonl`` (``file_name`` and a ``transcription``/``text``
column, the Hugging Face audiofolder layout); they are normalised and written apart, to
``data/references/<drop>.jsonl``, where only evaluation and the demo reviewer read them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from asrloop.artifacts import Layout
from asrloop.audio.io import AUDIO_SUFFIXES
from asrloop.corpus import ownership
from asrloop.corpus.drop import Drop
from asrloop.corpus.importer.audiofolder import METADATA, transcripts
from asrloop.corpus.importer.clip import SourceClip
from asrloop.corpus.importer.import_plan import Excluded, ImportShard, PlannedClip, safe_id
from asrloop.corpus.importer.shard_writer import write_shards
from asrloop.corpus.manifest import read_manifest, write_manifest
from asrloop.corpus.served import guard_drop
from asrloop.errors import ConfigError, DataError
from asrloop.faults import fault_point
from asrloop.progress import console, progress_bar
from asrloop.settings.corpus import CorpusSettings
from asrloop.settings.scenario import DropSettings
from asrloop.text.normalize import NormalizationError, normalize_transcript

STEP = "drop import"


@dataclass(frozen=True)
class DropImportSettings:
    """``scenario.drop.import_from`` plus the corpus's alphabet, language and import workers."""

    folder: Path
    alphabet: str
    language: str
    workers: int
    replace: bool = False  # scenario.drop.replace: rewrite a drop already in use

    @classmethod
    def of(cls, drop: DropSettings, corpus: CorpusSettings) -> DropImportSettings:
        """From ``scenario.drop`` and ``corpus``; the folder must exist."""
        if not drop.import_from:
            raise ConfigError("scenario.drop.import_from: name the folder of audio to import")
        folder = Path(drop.import_from).expanduser().resolve()
        if not folder.is_dir():
            raise ConfigError(f"scenario.drop.import_from: {folder} is not a folder")
        workers = corpus.importer.workers
        return cls(folder, corpus.alphabet, corpus.language, workers, drop.replace)


def audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)


def planned_clips(folder: Path) -> list[PlannedClip]:
    """One clip per audio file, without text; ids from the path (``sub/a b.mp3`` -> sub-a-b)."""
    clips, seen = [], {}
    for path in audio_files(folder):
        clip_id = safe_id("-".join(path.relative_to(folder).with_suffix("").parts))
        if clip_id in seen:
            raise DataError(f"{path}: same clip id {clip_id!r} as {seen[clip_id]}; rename one")
        seen[clip_id] = path
        source = SourceClip(clip_id, str(path), None, str(path))
        stat = path.stat()
        clips.append(PlannedClip(clip_id, source, None, "drop", (stat.st_size, stat.st_mtime_ns)))
    return clips


def reference_texts(folder: Path) -> dict[str, tuple[str | None, str]]:
    """Audio path -> (raw text, origin) from the folder's metadata files, if any."""
    out = {}
    for name in METADATA:
        for metadata in folder.rglob(name):
            for audio, text, where, _ in transcripts(metadata):
                out[audio] = (text, where)
    return out


def write_references(
    drop: Drop, clips: list[PlannedClip], settings: DropImportSettings
) -> list[Excluded]:
    """The drop's references (normalised text, raw text in provenance); returns the rows left
    out because their text cannot be normalised."""
    texts = reference_texts(settings.folder)
    if not texts:  # none given: no references (an empty file would claim every clip has none)
        drop.references.unlink(missing_ok=True)
        return []
    rows, excluded = [], []
    for row in read_manifest(drop.manifest, require_text=False):
        raw, where = texts.get(row.extra["provenance"]["path"], (None, ""))
        if raw is None:
            continue
        try:
            text = normalize_transcript(raw, settings.alphabet, settings.language)
        except NormalizationError as error:
            excluded.append(Excluded(where, str(error)))
            continue
        provenance = {**row.extra["provenance"], "raw_text": raw, "origin": where}
        rows.append(
            row.replace(
                text=text,
                audio_filepath=os.path.relpath(row.audio_path, drop.references.parent),
                extra={"provenance": provenance},
            )
        )
    fault_point("drop_import.before_references")
    write_manifest(drop.references, rows)
    return excluded


def import_drop(drop: Drop, settings: DropImportSettings, layout: Layout) -> Path:
    """Import ``settings.folder`` as ``drop``; a drop already in use is refused (or, with
    ``settings.replace``, moved aside first: :func:`asrloop.corpus.served.guard_drop`)."""
    ownership.claim_folder(drop.folder, STEP)
    clips = planned_clips(settings.folder)
    if not clips:
        raise DataError(f"{settings.folder}: no audio files ({', '.join(AUDIO_SUFFIXES)})")
    shard = ImportShard(drop.name, tuple(clips))
    kept = guard_drop(layout, drop.name, STEP, settings.replace, shard.digest())
    if kept is not None:
        console.print(f"[yellow]replacing drop {drop.name}[/]: the old one is kept in {kept}")
    with progress_bar(f"importing drop {drop.name}", len(clips)) as advance:
        write_shards([shard], drop.folder.parent, settings.workers, STEP, advance)
    rows = read_manifest(drop.manifest, require_text=False)
    excluded = write_references(drop, clips, settings)
    references = len(read_manifest(drop.references)) if drop.references.exists() else 0
    resampled = sum(1 for r in rows if r.extra["provenance"]["sample_rate"] != 16_000)
    downmixed = sum(1 for r in rows if r.extra["provenance"]["channels"] > 1)
    console.print(
        f"drop {drop.name}: {len(rows)} of {len(clips)} files in {drop.folder} "
        f"({resampled} resampled to 16 kHz, {downmixed} down-mixed), {references} references"
    )
    for line in excluded:
        console.print(f"[yellow]reference left out[/] {line}")
    return drop.folder
