"""``conf/grow``: approved corrections become a corpus shard (plus optional renditions)."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.common import NoiseSettings


@dataclass
class GrowSynthesisSettings:
    """Extra synthesized renditions of approved sentences that say a new word."""

    copies: int = 0
    voices: list[str] = MISSING
    rate_wpm: list[int] = MISSING
    pitch: list[int] = MISSING
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    speed_perturb: list[float] = MISSING
    workers: int = MISSING


@dataclass
class GrowRoundSettings:
    """Targeted data for a term still short of its target after a fine-tune, per unit of its
    deficit (``(target - recall) / target``: 1 for a term the model never writes)."""

    renditions: int = MISSING  # synthesized renditions of the term's approved sentences
    contrastive: float = MISSING  # contrastive sentences per rendition (the confusions said)
    false_alarm: int = MISSING  # per word the probe heard as a term: base sentences saying it


@dataclass
class ContrastSettings:
    """Look-alike contrast (asrloop.loop.lookalikes): base sentences saying the corpus words
    that sound like a new word, rendered anew into the grown corpus beside it."""

    clips: int = 0  # per new word (0: off)
    words: int = 10  # look-alikes per new word, closest first
    min_similarity: float = 0.75  # asrloop.text.sounds.contains_sounds


@dataclass
class ProbeSettings:
    """The look-alike probe: after a fine-tune, fresh renditions of base sentences saying a wide
    net of look-alikes, decoded by the new model; where it writes a new word, a false alarm."""

    clips: int = 0  # per new word (0: no probe)
    words: int = 40
    min_similarity: float = 0.6


@dataclass
class PseudoLabelSettings:
    """Clips the calibrated model is sure of, trained on with its hypothesis as label."""

    enabled: bool = False
    min_confidence: float = 0.95  # every word's calibrated confidence at least this
    max_clips: int = 200


@dataclass
class GrowSettings:
    synthesize: GrowSynthesisSettings = field(default_factory=GrowSynthesisSettings)
    contrast: ContrastSettings = field(default_factory=ContrastSettings)
    probe: ProbeSettings = field(default_factory=ProbeSettings)
    label_check: bool = MISSING
    pseudo_label: PseudoLabelSettings = field(default_factory=PseudoLabelSettings)
    validation_share: float = MISSING  # of each term's approved clips, kept out of training
    min_validation_clips: int = MISSING  # a term with fewer validation clips is not measured
    target_recall: float = MISSING  # validation recall a term must reach (else another round)
    max_rounds: int = MISSING  # extra fine-tunes after the first (0: no growth rounds)
    budget_minutes: float = MISSING  # no new round starts after this much time in rounds
    round: GrowRoundSettings = field(default_factory=GrowRoundSettings)
