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
class GrowSettings:
    synthesize: GrowSynthesisSettings = field(default_factory=GrowSynthesisSettings)
    label_check: bool = MISSING
