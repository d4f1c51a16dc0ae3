"""The corpus under test: every row with its decoded-audio stats, and the rules it must meet.

Every clip is decoded once (soundfile, in a small process pool) into :class:`AudioStats`; each
check then reads :class:`Clip` objects (row + stats) of a :class:`CorpusUnderTest`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from asrloop.audio.io import AudioError, read_pcm
from asrloop.corpus.manifest import Utterance
from asrloop.settings.checks import DataChecksSettings
from asrloop.settings.corpus import CorpusSettings

FULL_SCALE = 32766  # int16 magnitude above which a sample counts as clipped


@dataclass(frozen=True)
class AudioStats:
    """What the checks need from one file; ``error`` is set when it cannot be decoded."""

    rate: int = 0
    channels: int = 0
    frames: int = 0
    rms_dbfs: float = -math.inf
    clipped_share: float = 0.0
    digest: str = ""
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def audio_stats(path: str | Path, segment: tuple[float, float | None] = (0.0, None)) -> AudioStats:
    """Decode one file or its ``segment`` (a row's ``Utterance.segment``) as int16 and
    summarise it: format, level, clipping, content hash."""
    try:
        pcm, rate = read_pcm(path, "int16", segment)
    except AudioError as error:
        return AudioStats(error=f"cannot decode ({error.__cause__ or error})")
    channels = pcm.shape[1]
    digest = hashlib.sha256(f"{rate}:{channels}:".encode() + pcm.tobytes()).hexdigest()
    if pcm.size == 0:
        return AudioStats(rate, channels, 0, digest=digest)
    samples = pcm.astype(np.float32).ravel()
    rms = math.sqrt(float(np.dot(samples, samples)) / samples.size) / 32768.0
    clipped = np.count_nonzero((pcm > FULL_SCALE) | (pcm < -FULL_SCALE)) / pcm.size
    return AudioStats(
        rate, channels, len(pcm), 20 * math.log10(max(rms, 1e-10)), float(clipped), digest
    )


def row_audio_stats(row: Utterance) -> AudioStats:
    return audio_stats(row.audio_path, row.segment)


def all_audio_stats(rows: list[Utterance], workers: int) -> list[AudioStats]:
    """:func:`audio_stats` for every row's clip, in order, in ``workers`` processes."""
    if workers <= 1 or len(rows) < 64:
        return [row_audio_stats(r) for r in rows]
    chunk = max(16, len(rows) // (workers * 8))
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        return list(pool.map(row_audio_stats, rows, chunksize=chunk))


@dataclass(frozen=True)
class CorpusRules:
    """What a corpus must look like: ``checks.data`` settings plus alphabet, voices, terms."""

    settings: DataChecksSettings  # checks.data
    sample_rate: int
    alphabet: str
    language: str  # how transcripts are normalised (asrloop.text.normalize)
    train_voices: tuple[str, ...]
    heldout_voices: tuple[str, ...]
    terms: tuple[str, ...]

    @classmethod
    def of(
        cls,
        checks: DataChecksSettings,
        sample_rate: int,
        corpus: CorpusSettings,
        terms: Sequence[str],
    ) -> CorpusRules:
        """From ``checks.data``, ``features.sample_rate``, ``corpus`` and ``scenario.terms``. An
        imported corpus (``corpus.source: import``) has speakers, not the synthesizer's voices."""
        synthesized = corpus.source == "synth"
        return cls(
            checks,
            sample_rate,
            corpus.alphabet,
            corpus.language,
            tuple(corpus.voices.train) if synthesized else (),
            tuple(corpus.voices.heldout) if synthesized else (),
            tuple(terms),
        )


@dataclass(frozen=True)
class Clip:
    """A row with its audio stats; ``ref`` is how findings name it."""

    row: Utterance
    audio: AudioStats
    ref: str


@dataclass
class CorpusUnderTest:
    root: Path
    clips: list[Clip]
    rules: CorpusRules
    summary: dict = field(default_factory=dict)

    @property
    def settings(self) -> DataChecksSettings:
        return self.rules.settings

    def decoded(self) -> list[Clip]:
        return [c for c in self.clips if c.audio.error is None]

    def split(self, *names: str) -> list[Clip]:
        return [c for c in self.clips if c.row.split in names]
