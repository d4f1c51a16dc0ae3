"""``conf/decode``: greedy CTC or lexicon + LM beam search; the two differ in shape.

:func:`decode_schema` picks the schema from ``type`` (what ``asrloop.decode`` reads), so a greedy
entry gains no beam-search keys (the recognizer's signature hashes every key it has).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.common import Number


@dataclass
class DecodeSettings:
    """Greedy decoding: best token per frame (``type: greedy``); every decoder has a type."""

    type: str = MISSING


@dataclass
class DecodeTuneSettings:
    """Grids for ``asrloop decode tune``."""

    lm_weights: list[float] = MISSING
    word_scores: list[float] = MISSING


@dataclass
class BiasSettings:
    """Context biasing: a context graph of phrases inside the beam search (``bonus`` 0: off)."""

    phrases: list[str] = "${scenario.terms}"  # an interpolation, resolved to the terms
    extra: list[str] = field(default_factory=list)  # more phrases (names, distractors)
    bonus: float = 0.0  # per matched word, in decoder score units
    mode: str = "lm"  # lm: compiled into the n-gram LM (native); graph: inside the search (Python)


@dataclass
class TermCheckSettings:
    """A term's word the beam search writes stays only where the acoustic model, on its own,
    spells it within ``max_distance`` edits per letter (and, with ``nearer_word_wins``, no
    other lexicon word is nearer what it spelled), or, where the letters are further, says its
    sounds within ``max_sound_distance`` edits per sound in ``language`` (espeak-ng; 0: off);
    elsewhere the lexicon word nearest each spelled word takes its place
    (asrloop.decode.LexiconDecoder)."""

    enabled: bool = True
    terms: list[str] = "${scenario.terms}"  # an interpolation, resolved to the terms
    max_distance: float = 0.5
    nearer_word_wins: bool = True  # a spelling nearer another lexicon word rejects the term
    max_sound_distance: float = 0.25  # the second chance by sound; 0: letters only
    language: str = "${corpus.language}"  # an interpolation: the espeak-ng voice to phonemize


@dataclass
class LexiconDecodeSettings(DecodeSettings):
    """Lexicon-constrained beam search with the vocabulary's n-gram LM (``type: lexicon``)."""

    beam_size: int = MISSING
    beam_threshold: Number = MISSING
    lm_weight: float = MISSING
    word_score: float = MISSING
    unk_score: float = MISSING
    sil_score: float = MISSING
    nbest: int = MISSING
    tune: DecodeTuneSettings = field(default_factory=DecodeTuneSettings)
    bias: BiasSettings = field(default_factory=BiasSettings)
    term_check: TermCheckSettings = field(default_factory=TermCheckSettings)


DECODERS: dict[str, type[DecodeSettings]] = {
    "greedy": DecodeSettings,
    "lexicon": LexiconDecodeSettings,
}
BIAS_MODES = ("graph", "lm")
CHOICES = {  # checked before the schema is picked
    "decode.type": tuple(DECODERS),
    "decode.bias.mode": BIAS_MODES,
}


def decode_schema(decode: Mapping | None) -> type[DecodeSettings]:
    """The schema for ``decode.type``."""
    kind = decode.get("type") if isinstance(decode, Mapping) else None
    return DECODERS.get(str(kind), DecodeSettings)
