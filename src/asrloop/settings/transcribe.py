"""``conf/transcribe``: the deployed model transcribing production audio."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from asrloop.settings.common import ModelRef


@dataclass
class TranscribeSettings:
    model: ModelRef = MISSING  # an alias, a version number or a model folder
    input: str = MISSING
    output: str = MISSING
    second_path: bool = MISSING
