"""``conf/evaluate``: which model and splits ``asrloop evaluate`` scores, and where."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.common import Number


@dataclass
class EvaluateSettings:
    model: str = MISSING  # a model folder, or registry:<alias|version>
    splits: list[str] = MISSING
    batch_seconds: Number = MISSING
    real_speech: list[str] = field(default_factory=list)  # folders of recordings of people
