"""``conf/vocab``: the word LM's order and smoothing, hot words, extra lexicon words."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING


@dataclass
class VocabSettings:
    order: int = MISSING
    method: str = MISSING  # kneser_ney | witten_bell
    hotwords: list[str] = field(default_factory=list)
    hotword_boost: float = MISSING
    extra_words: list[str] = field(default_factory=list)
