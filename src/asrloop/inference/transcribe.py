"""Transcription (``asrloop transcribe``): the running system. The champion transcribes a drop.

Input: ``transcribe.input`` (a drop folder with a manifest, any folder of audio, or one file).
Output: ``transcripts.jsonl`` (:class:`asrloop.inference.transcript.Transcript` rows: text, per-word
start/end/confidence, model and vocabulary versions). Long files are chunked; unreadable clips
are reported and skipped. Which version serves a drop is pinned once in a
:class:`asrloop.records.ServingRecord`, so a rerun never re-serves an old drop with a newer model.
"""

from __future__ import annotations

from pathlib import Path

from asrloop.artifacts import MANIFEST
from asrloop.audio.io import AUDIO_SUFFIXES, AudioError, audio_info
from asrloop.corpus.manifest import Utterance, read_manifest
from asrloop.execution import LOCAL, Executor
from asrloop.faults import fault_point
from asrloop.inference.batch import transcribe_utterances
from asrloop.inference.loading import REGISTRY_PREFIX
from asrloop.inference.recognizer import Recognizer
from asrloop.inference.transcript import Transcript, write_transcripts
from asrloop.model.registry import Registry
from asrloop.progress import console
from asrloop.records import ModelInfo, ServingRecord


def input_rows(source: Path) -> list[Utterance]:
    """Rows for a drop folder (its manifest), a folder of audio files, or a single file."""
    if (source / MANIFEST).exists():
        return read_manifest(source / MANIFEST, require_text=False, contained=True)
    files = (
        [source]
        if source.is_file()
        else sorted(p for p in source.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    )
    rows = []
    for path in files:
        try:
            rate, _, frames = audio_info(path)
            duration = frames / rate
        except AudioError:
            duration = 0.0
        rows.append(Utterance(id=path.stem, audio_filepath=str(path.resolve()), duration=duration))
    return rows


def pin_serving_model(record: Path, registry: Registry, model: str) -> ServingRecord:
    """Record (once) which registered version serves a drop: ``model`` (an alias) now."""
    existing = ServingRecord.load_if_exists(record)
    if existing is not None:
        return existing
    pinned = ServingRecord(registry.name, registry.alias_version(model) or model)
    fault_point("serving.before_record")
    pinned.write(record)
    return pinned


def serving_model(record: Path, default: str) -> str:
    pinned = ServingRecord.load_if_exists(record)
    return pinned.version if pinned is not None else default


def model_ref(model: str) -> str:
    """``model`` as a recognizer reference: a model folder as it is, else a registered version
    or alias (``registry:<model>``)."""
    if not model.startswith(REGISTRY_PREFIX) and not Path(model).exists():
        return f"{REGISTRY_PREFIX}{model}"
    return model


def portable(path: Path, root: Path | None) -> str:
    """``path`` relative to the project ``root`` when inside it (a copied tree reads its own
    audio), else absolute (production audio elsewhere)."""
    resolved = Path(path).resolve()
    if root is not None and resolved.is_relative_to(Path(root).resolve()):
        return str(resolved.relative_to(Path(root).resolve()))
    return str(resolved)


def transcribe(
    recognizer: Recognizer,
    info: ModelInfo,
    source: Path,
    out: Path,
    batch: float,
    root: Path | None = None,
    executor: Executor = LOCAL,
) -> Path:
    """Transcribe every clip of ``source`` into ``out`` (transcripts.jsonl rows; audio paths
    relative to the project ``root`` when inside it), the batches run by ``executor``."""
    rows = input_rows(source)
    predictions, stats = transcribe_utterances(
        recognizer, rows, batch, f"transcribing {source.name}", executor=executor
    )
    transcripts = [
        Transcript(
            id=p.utterance.id,
            audio_filepath=portable(p.utterance.audio_path, root),
            duration=p.utterance.duration,
            voice=p.utterance.voice,
            transcription=p.transcription,
            model_version=info.model_version or info.model,
            vocab_version=info.vocab_version or "none",
        )
        for p in predictions
    ]
    fault_point("transcribe.before_write")
    write_transcripts(out, transcripts)
    console.print(
        f"{len(transcripts)} transcripts -> {out} (RTF {stats.rtf:.4f}, {stats.skipped} skipped)"
    )
    return out
