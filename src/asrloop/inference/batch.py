"""Transcribe manifest rows in length-sorted batches: one :class:`Prediction` per readable clip.

The batches are planned once (:func:`plan_batches`) and run by an executor
(:mod:`asrloop.execution`: this process, or a Ray cluster's actors), each batch by the same
:class:`BatchTranscriber`. Unreadable clips are reported and skipped (counted in
:class:`BatchStats`), never fatal.
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
from asrloop.execution import LOCAL, Executor
from asrloop.inference.types import Transcription
from asrloop.jsonio import read_json, write_json
from asrloop.progress import console

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
    executor: Executor = LOCAL,
) -> tuple[list[Prediction], BatchStats]:
    """Predictions in the order of ``rows`` (unreadable clips left out) and timing stats;
    from ``cache`` when this recognizer already transcribed these rows. ``executor`` runs the
    batches (:mod:`asrloop.execution`): here, or on a Ray cluster's actors, same results."""
    if cache is not None:
        cached = cache.get(recognizer, rows)
        if cached is not None:
            console.print(f"{description}: {len(cached[0])} predictions reused")
            return cached
    predictions, stats = _transcribe(recognizer, rows, batch_seconds, description, executor)
    if cache is not None:
        cache.put(recognizer, rows, predictions, stats)
    return predictions, stats


def plan_batches(
    rows: Sequence[Utterance], batch_seconds: float, max_file_seconds: float
) -> tuple[list[list[int]], list[str]]:
    """Row indices in length order, cut into batches of about ``batch_seconds`` of audio (by
    the files' headers), and a message per clip left out (unreadable header, too long). Every
    executor runs these same batches, so every executor hears the same thing."""
    order = sorted(range(len(rows)), key=lambda i: rows[i].duration)
    batches: list[list[int]] = []
    skipped: list[str] = []
    batch: list[int] = []
    size = 0.0
    for position, index in enumerate(order):
        try:
            seconds = _bounded_seconds(rows[index], max_file_seconds)
            batch.append(index)
            size += seconds
        except AudioError as error:
            skipped.append(str(error))
        if batch and (size >= batch_seconds or position == len(order) - 1):
            batches.append(batch)
            batch, size = [], 0.0
    return batches, skipped


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch gave: a transcription per row (None: unreadable), the skip messages."""

    transcriptions: list[Transcription | None]
    skipped: list[str]
    audio_seconds: float
    compute_seconds: float


@dataclass(frozen=True)
class BatchTranscriber:
    """One planned batch of rows -> their transcriptions: the function every executor runs
    (pickled with its recognizer's recipe for a remote worker, which rebuilds it once). The
    rows come from :func:`plan_batches`, which has already refused over-long files."""

    recognizer: Recognizer

    def __call__(self, rows: list[Utterance]) -> BatchOutcome:
        audios: list[np.ndarray] = []
        readable: list[int] = []
        skipped: list[str] = []
        for position, row in enumerate(rows):
            try:
                audios.append(read_audio(row.audio_path, segment=row.segment)[0])
                readable.append(position)
            except AudioError as error:
                skipped.append(str(error))
        start = time.perf_counter()
        heard = self.recognizer.transcribe_batch(audios) if audios else []
        compute = time.perf_counter() - start
        transcriptions: list[Transcription | None] = [None] * len(rows)
        for position, transcription in zip(readable, heard, strict=True):
            transcriptions[position] = transcription
        seconds = sum(len(a) for a in audios) / SAMPLE_RATE
        return BatchOutcome(transcriptions, skipped, seconds, compute)


def _transcribe(
    recognizer: Recognizer,
    rows: Sequence[Utterance],
    batch_seconds: float,
    description: str,
    executor: Executor,
) -> tuple[list[Prediction], BatchStats]:
    batches, skipped = plan_batches(rows, batch_seconds, recognizer.max_file_seconds)
    work = [[_with_absolute_path(rows[i]) for i in batch] for batch in batches]
    outcomes = executor.map(BatchTranscriber(recognizer), work, description, size=len)
    results: dict[int, Transcription] = {}
    for batch, outcome in zip(batches, outcomes, strict=True):
        skipped += outcome.skipped
        for index, transcription in zip(batch, outcome.transcriptions, strict=True):
            if transcription is not None:
                results[index] = transcription
    for message in skipped:
        console.print(f"[yellow]skipped[/] {message}")
    audio_seconds = sum(outcome.audio_seconds for outcome in outcomes)
    compute_seconds = sum(outcome.compute_seconds for outcome in outcomes)
    predictions = [Prediction(rows[i], results[i]) for i in range(len(rows)) if i in results]
    return predictions, BatchStats(audio_seconds, compute_seconds, len(skipped))


def _with_absolute_path(row: Utterance) -> Utterance:
    """The row naming its audio absolutely: a worker's working folder is not this one's."""
    return row.replace(audio_filepath=str(row.audio_path.resolve()), manifest=None)


def _bounded_seconds(row: Utterance, max_seconds: float) -> float:
    """The clip's length by its header (its segment's, for a row with an offset); a clip longer
    than ``max_seconds`` is an :class:`AudioError`."""
    rate, _, frames = audio_info(row.audio_path)
    seconds = row.segment[1] if row.segment[1] is not None else frames / rate
    if seconds > max_seconds:
        raise AudioError(
            f"{row.audio_path}: {seconds:.0f} s is longer than "
            f"features.max_file_seconds={max_seconds:g}"
        )
    return seconds


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
