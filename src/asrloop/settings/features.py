"""``conf/features``: log-mel filterbank settings and the longest clip and file."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from asrloop.settings.common import Number


@dataclass
class FeaturesSettings:
    sample_rate: int = MISSING
    n_mels: int = MISSING
    win_ms: Number = MISSING
    hop_ms: Number = MISSING
    max_seconds: float = MISSING
    max_file_seconds: float = MISSING
