"""``conf/export``: which registered version ``asrloop model export`` writes, and where."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from asrloop.settings.common import ModelRef


@dataclass
class ExportSettings:
    model: ModelRef = MISSING  # an alias or a version number
    output_dir: str = MISSING
