"""The running system's output: one :class:`Transcript` per production clip, as JSON lines.

``reports/transcripts/<drop>/transcripts.jsonl`` is written by ``asrloop transcribe`` and read
by the monitor and triage. ``text`` is the hypothesis; ``words`` carry times and confidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asrloop.errors import DataError
from asrloop.inference.types import Transcription
from asrloop.jsonio import iter_jsonl, write_jsonl


@dataclass(frozen=True)
class Transcript:
    id: str
    audio_filepath: str  # relative to the project root inside it, else absolute
    duration: float
    voice: str
    transcription: Transcription
    model_version: str
    vocab_version: str

    @property
    def text(self) -> str:
        return self.transcription.text

    @property
    def confidence(self) -> float:
        return self.transcription.confidence

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "audio_filepath": self.audio_filepath,
            "duration": self.duration,
            "voice": self.voice,
            "text": self.text,
            "words": self.transcription.words_as_dicts(),
            "confidence": self.confidence,
            "model_version": self.model_version,
            "vocab_version": self.vocab_version,
            **({"greedy_text": self.transcription.greedy} if self.transcription.greedy else {}),
            **{
                name: value
                for name in ("entropy", "margin")
                if (value := getattr(self.transcription, name)) is not None
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "<row>") -> Transcript:
        missing = [name for name in ("id", "text") if name not in data]
        if missing:
            raise DataError(f"{where}: missing field(s) {missing}")
        words = data.get("words")
        if words is None:  # a transcript from another system: text only, no word confidences
            words = [
                {"word": w, "start": 0.0, "end": 0.0, "confidence": 1.0}
                for w in str(data["text"]).split()
            ]
        return cls(
            id=str(data["id"]),
            audio_filepath=str(data.get("audio_filepath", "")),
            duration=float(data.get("duration", 0.0)),
            voice=str(data.get("voice", "")),
            transcription=Transcription.from_word_dicts(
                words,
                data.get("greedy_text"),
                _optional_number(data, "entropy", where),
                _optional_number(data, "margin", where),
            ),
            model_version=str(data.get("model_version", "")),
            vocab_version=str(data.get("vocab_version", "")),
        )


def _optional_number(data: Mapping[str, Any], name: str, where: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise DataError(f"{where}: field '{name}': {value!r} is not a number")
    return float(value)


def read_transcripts(path: str | Path) -> list[Transcript]:
    """Production transcripts (see ``asrloop transcribe``); each needs ``id`` and ``text``."""
    return [Transcript.from_dict(data, f"{path}:{n}") for n, data in iter_jsonl(path)]


def write_transcripts(path: str | Path, rows: Iterable[Transcript]) -> Path:
    return write_jsonl(path, (row.to_dict() for row in rows))
