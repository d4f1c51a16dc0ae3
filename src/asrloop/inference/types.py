"""What a recognizer hears in a clip: words with times and confidence (no torch needed, so the
monitor and triage read transcripts without loading a model)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class WordTiming:
    word: str
    start: float  # seconds
    end: float
    confidence: float  # mean posterior of the word's tokens, in [0, 1]


@dataclass(frozen=True)
class Transcription:
    """One clip's result: words with times and confidence; ``confidence`` is their mean."""

    words: tuple[WordTiming, ...] = field(default_factory=tuple)
    greedy: str | None = None  # the second decoding path (no lexicon, no LM), when asked for
    # the CTC posteriors' uncertainty over speech frames (asrloop.inference.uncertainty):
    entropy: float | None = None  # mean frame entropy, nats (higher: less sure)
    margin: float | None = None  # mean best-minus-second posterior (lower: less sure)

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)

    @property
    def confidence(self) -> float:
        if not self.words:
            return 0.0
        return round(float(np.mean([w.confidence for w in self.words])), 4)

    def words_as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(w) for w in self.words]

    @classmethod
    def from_word_dicts(
        cls,
        words: list[Mapping[str, Any]],
        greedy: str | None = None,
        entropy: float | None = None,
        margin: float | None = None,
    ) -> Transcription:
        """Words as written by :meth:`words_as_dicts`; a missing confidence reads as 1.0."""
        return cls(
            tuple(
                WordTiming(
                    str(w["word"]),
                    float(w.get("start") or 0.0),
                    float(w.get("end") or 0.0),
                    1.0 if w.get("confidence") is None else float(w["confidence"]),
                )
                for w in words
            ),
            greedy,
            entropy,
            margin,
        )
