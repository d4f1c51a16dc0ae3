"""``conf/checks``: data, label and model test thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.common import SplitSizes


@dataclass
class DataChecksSettings:
    min_rms_dbfs: float = MISSING
    max_clipped_share: float = MISSING
    duration_tolerance: float = MISSING
    chars_per_second: list[float] = MISSING
    max_voice_ratio: float = MISSING
    min_split_rows: SplitSizes = field(default_factory=SplitSizes)
    regression_hash: str | None = None
    workers: int = MISSING
    term_inflections: list[str] = field(default_factory=list)


@dataclass
class LabelChecksSettings:
    max_cer: float = MISSING
    max_clips: int = MISSING
    max_share: float = MISSING


@dataclass
class ModelChecksSettings:
    target: str = MISSING  # a model folder, or registry:<alias|version>
    champion: str | None = None
    gain_db: list[float] = MISSING
    noise_snr_db: float = MISSING
    max_invariance_wer_delta: float = MISSING
    phrases: list[str] = MISSING
    voices: list[str] = MISSING  # each phrase is spoken by each; missed = wrong in most
    max_clips: int = MISSING
    min_term_recall: float = MISSING


@dataclass
class ChecksSettings:
    data: DataChecksSettings = field(default_factory=DataChecksSettings)
    labels: LabelChecksSettings = field(default_factory=LabelChecksSettings)
    model: ModelChecksSettings = field(default_factory=ModelChecksSettings)
