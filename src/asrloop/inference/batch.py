"""Transcribe manifest rows in length-sorted batches: one :class:`Prediction` per readable clip.

Unreadable clips are reported and skipped (counted in :class:`BatchStats`), never fatal.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from asrloop.artifacts import PREDICTIONS_SUFFIX
from asrloop.audio.io import SAMPLE_RATE, AudioError, audio_info, read_audio
from asrloop.corpus.manifest import Utterance
from asrloop.inference.types import Transcription
from asrloop.jsonio import read_json, write_json
from asrloop.progress import console, progress_bar

if TYPE_CHECKING:
    from asrloop.inference.recognizer import Recognizer


@dataclass(frozen=True)
class Prediction:
    """A manifest row and what the recognizer heard in it."""

    utterance: Utterance
    transcription: Transcription

    @property
    def reference(self) -> str:
        return self.utterance.text or ""

    @property
    def hypothesis(self) -> str:
        return self.transcription.text

    def to_dict(self) -> dict[str, Any]:
        """The predictions-manifest row: the utterance plus ``pred_text``, words, confidence."""
        return {
            **self.utterance.to_dict(),
            "pred_text": self.transcription.text,
            "words": self.transcription.words_as_dicts(),
            "confidence": self.transcription.confidence,
        }


@dataclass(frozen=True)
class BatchStats:
    audio_seconds: float
    compute_seconds: float
    skipped: int

    @property
    def rtf(self) -> float:
        return self.compute_seconds / max(self.audio_seconds, 1e-9)


class PredictionCache:
    """Predictions on disk, keyed by the recognizer's signature and the rows: a model measured
    once on a set (evaluation) is not transcribed again on it (the gate, the final report)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, recognizer: Recognizer, rows: Sequence[Utterance]) -> Path | None:
        if recognizer.signature is None:
            return None
        listing = "\n".join(f"{r.id}\t{r.audio_path}\t{r.duration}" for r in rows)
        key = hashlib.sha256(f"{recognizer.signature}\n{listing}".encode()).hexdigest()[:24]
        return self.folder / f"{key}{PREDICTIONS_SUFFIX}"

    def get(self, recognizer, rows) -> tuple[list[Prediction], BatchStats] | None:
        path = self._path(recognizer, rows)
        if path is None or not path.exists():
            return None
        data = read_json(path)
        heard = {
            k: Transcription.from_word_dicts(
                v["words"], v.get("greedy"), v.get("entropy"), v.get("margin")
            )
            for k, v in data["transcriptions"].items()
        }
        predictions = [Prediction(row, heard[row.id]) for row in rows if row.id in heard]
        return predictions, BatchStats(**data["stats"])

    def put(self, recognizer, rows, predictions: list[Prediction], stats: BatchStats) -> None:
        path = self._path(recognizer, rows)
        if path is None:
            return
        transcriptions = {
            p.utterance.id: {
                "words": p.transcription.words_as_dicts(),
                "greedy": p.transcription.greedy,
                "entropy": p.transcription.entropy,
                "margin": p.transcription.margin,
            }
            for p in predictions
        }
        write_json(path, {"stats": asdict(stats), "transcriptions": transcriptions})


def transcribe_utterances(
    recognizer: Recognizer,
    rows: Sequence[Utterance],
    batch_seconds: float,
    description: str = "transcribing",
    cache: PredictionCache | None = None,
) -> tuple[list[Prediction], BatchStats]:
    """Predictions in the order of ``rows`` (unreadable clips left out) and timing stats;
    from ``cache`` when this recognizer already transcribed these rows."""
    if cache is not None:
        cached = cache.get(recognizer, rows)
        if cached is not None:
            console.print(f"{description}: {len(cached[0])} predictions reused")
            return cached
    predictions, stats = _transcribe(recognizer, rows, batch_seconds, description)
    if cache is not None:
        cache.put(recognizer, rows, predictions, stats)
    return predictions, stats


def _transcribe(
    recognizer: Recognizer, rows: Sequence[Utterance], batch_seconds: float, description: str
) -> tuple[list[Prediction], BatchStats]:
    order = sorted(range(len(rows)), key=lambda i: rows[i].duration)
    results: dict[int, Transcription] = {}
    audio_seconds, compute_seconds, skipped = 0.0, 0.0, []
    with progress_bar(description, len(rows)) as advance:
        batch: list[tuple[int, np.ndarray]] = []
        for position, index in enumerate(order):
            try:
                audio = _read_bounded(rows[index], recognizer.max_file_seconds)
                batch.append((index, audio))
            except AudioError as error:
                skipped.append(str(error))
                console.print(f"[yellow]skipped[/] {error}")
            size = sum(len(a) for _, a in batch) / SAMPLE_RATE
            if batch and (size >= batch_seconds or position == len(order) - 1):
                start = time.perf_counter()
                outputs = recognizer.transcribe_batch([a for _, a in batch])
                compute_seconds += time.perf_counter() - start
                audio_seconds += size
                for (i, _), out in zip(batch, outputs, strict=True):
                    results[i] = out
                advance(len(batch))
                batch = []
        advance(len(skipped))
    predictions = [Prediction(rows[i], results[i]) for i in range(len(rows)) if i in results]
    return predictions, BatchStats(audio_seconds, compute_seconds, len(skipped))


def _read_bounded(row: Utterance, max_seconds: float) -> np.ndarray:
    """The clip's audio (its segment, for a row with an offset); a clip longer than
    ``max_seconds`` (by the header, or the segment's duration) is refused unread."""
    rate, _, frames = audio_info(row.audio_path)
    seconds = row.segment[1] if row.segment[1] is not None else frames / rate
    if seconds > max_seconds:
        raise AudioError(
            f"{row.audio_path}: {seconds:.0f} s is longer than "
            f"features.max_file_seconds={max_seconds:g}"
        )
    audio, _ = read_audio(row.audio_path, segment=row.segment)
    return audio


def transcribe_audio(
    recognizer: Recognizer, audios: Sequence[np.ndarray], batch_seconds: float
) -> list[str]:
    """Texts for in-memory clips, in length-sorted batches of about ``batch_seconds``."""
    texts = [""] * len(audios)
    order = sorted(range(len(audios)), key=lambda i: len(audios[i]))
    batch: list[int] = []
    for position, index in enumerate(order):
        batch.append(index)
        seconds = sum(len(audios[i]) for i in batch) / SAMPLE_RATE
        if seconds >= batch_seconds or position == len(order) - 1:
            outputs = recognizer.transcribe_batch([audios[i] for i in batch])
            for i, out in zip(batch, outputs, strict=True):
                texts[i] = out.text
            batch = []
    return texts
