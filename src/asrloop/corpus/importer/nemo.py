"""NeMo manifest: JSON lines with ``audio_filepath`` (absolute or relative to the manifest),
``duration``, ``text`` and optional ``offset`` (a segment of a longer file) and ``speaker``.
``path`` is one manifest (no splits) or a folder of them named by split
(``train_manifest.json``...). lhotse has no NeMo reader."""

from __future__ import annotations

from pathlib import Path

from asrloop.corpus.importer.clip import CorpusImportError, ReaderOptions, SourceClip, resolve_audio
from asrloop.jsonio import iter_jsonl

SUFFIXES = (".json", ".jsonl")


def manifests(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.glob("*") if p.suffix in SUFFIXES and p.is_file())


def detect(path: Path) -> bool:
    found = manifests(path) if path.exists() else []
    if not found:
        return False
    first = found[0].read_text("utf-8").lstrip().split("\n", 1)[0]
    return first.startswith("{") and '"audio_filepath"' in first


def _clip(entry: dict, manifest: Path, number: int, split: str) -> SourceClip:
    where = f"{manifest}:{number}"
    if "audio_filepath" not in entry:
        raise CorpusImportError(f"{where}: no field 'audio_filepath'")
    audio = resolve_audio(str(entry["audio_filepath"]), manifest.parent)
    offset = float(entry.get("offset") or 0.0)
    duration = entry.get("duration")
    stem = Path(audio).stem
    return SourceClip(
        id=str(entry.get("id") or (f"{stem}-{round(offset * 1000):07d}" if offset else stem)),
        audio=audio,
        text=entry.get("text"),
        origin=where,
        speaker=str(entry.get("speaker") or ""),
        split=split,
        offset=offset,
        duration=float(duration) if duration is not None else None,
    )


def read(path: Path, options: ReaderOptions) -> list[SourceClip]:
    found = manifests(path)
    if not found:
        raise CorpusImportError(f"{path}: no NeMo manifest (*.json or *.jsonl)")
    clips = []
    for manifest in found:
        clips += [_clip(entry, manifest, n, manifest.stem) for n, entry in iter_jsonl(manifest)]
    return clips
