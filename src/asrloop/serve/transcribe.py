"""``asrloop transcribe``: the running system. The registry's champion transcribes a drop.

Input: ``transcribe.input`` (a drop folder with a manifest, any folder of audio, or one file).
Output: ``transcripts.jsonl`` rows with text, per-word start/end/confidence, model and
vocabulary versions. Long files are chunked; unreadable clips are reported and skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from asrloop.audio.io import audio_info
from asrloop.corpus.manifest import MANIFEST_NAME, audio_path, read_manifest, write_manifest
from asrloop.evaluate import load_recognizer, transcribe_rows
from asrloop.progress import console

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg"}


def input_rows(source: Path) -> list[dict]:
    """Rows for a drop folder (its manifest), a folder of audio files, or a single file."""
    if (source / MANIFEST_NAME).exists():
        return read_manifest(source / MANIFEST_NAME, require_text=False)
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
        except ValueError:
            duration = 0.0
        rows.append({"id": path.stem, "audio_filepath": str(path.resolve()), "duration": duration})
    return rows


def pin_serving_model(cfg: DictConfig) -> Path:
    """Record (once) which registered version serves the current drop: the champion now."""
    from asrloop.model.registry import alias_version

    record = Path(cfg.transcribe.serving_record)
    if not record.exists():
        version = alias_version(cfg, str(cfg.transcribe.model)) or str(cfg.transcribe.model)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(
            json.dumps({"model": cfg.tracking.registered_model, "version": version}) + "\n"
        )
    return record


def serving_model(cfg: DictConfig) -> str:
    record = Path(cfg.transcribe.serving_record)
    if record.exists():
        return str(json.loads(record.read_text())["version"])
    return str(cfg.transcribe.model)


def transcribe(cfg: DictConfig) -> Path:
    tc = cfg.transcribe
    model = serving_model(cfg)
    if not model.startswith("registry:") and not Path(model).exists():
        model = f"registry:{model}"
    recognizer, info = load_recognizer(cfg, model)
    source = Path(tc.input)
    rows = input_rows(source)
    predictions, stats = transcribe_rows(
        recognizer, rows, cfg.evaluate.batch_seconds, f"transcribing {source.name}"
    )
    out_rows = [
        {
            "id": p.get("id"),
            "audio_filepath": str(audio_path(p)),
            "duration": p["duration"],
            "voice": p.get("voice", ""),
            "text": p["pred_text"],
            "words": p["words"],
            "confidence": p["confidence"],
            "model_version": info.get("model_version", info["model"]),
            "vocab_version": info.get("vocab_version", "none"),
        }
        for p in predictions
    ]
    out = Path(tc.output)
    write_manifest(out, out_rows)
    console.print(
        f"{len(out_rows)} transcripts -> {out} (RTF {stats['rtf']:.4f}, {stats['skipped']} skipped)"
    )
    return out


def run(cfg: DictConfig) -> None:
    transcribe(cfg)
