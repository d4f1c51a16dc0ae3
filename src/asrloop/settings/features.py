"""``conf/features``: log-mel filterbank settings and the longest clip and file."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.common import Number


@dataclass
class SpeechGateSettings:
    """``features.speech_gate``: clips without speech get no words (``audio/activity.py``)."""

    enabled: bool = True
    min_dbfs: float = -65.0  # a loud frame is above this level ...
    min_range_db: float = 6.0  # ... and this far above the clip's floor (10th-percentile frame)
    min_active_seconds: float = 0.15  # loud frames a clip needs to be decoded
    # the loud frames' median power share in their 8 strongest FFT bins: below min, noise-like
    # (hiss, clicks); above max, tone-like (hum, music). Speech: 0.35-0.81 (README)
    min_peak_share: float = 0.2
    max_peak_share: float = 0.9


@dataclass
class FeaturesSettings:
    sample_rate: int = MISSING
    n_mels: int = MISSING
    win_ms: Number = MISSING
    hop_ms: Number = MISSING
    max_seconds: float = MISSING
    max_file_seconds: float = MISSING
    speech_gate: SpeechGateSettings = field(default_factory=SpeechGateSettings)
