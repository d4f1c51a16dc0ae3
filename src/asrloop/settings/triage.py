"""``conf/triage`` (with ``triage.monitor``): spike detection and review-sample sizes."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING


@dataclass
class MonitorSettings:
    """Phrases that spike in production against the training text, and disagreements."""

    max_n: int = MISSING
    min_count: int = MISSING
    min_ratio: float = MISSING
    smoothing: float = MISSING
    overlap: float = MISSING
    common_rate: float = MISSING
    top_k: int = MISSING
    confidence_threshold: float = MISSING
    disagreement_similarity: float = MISSING
    disagreement_min_count: int = MISSING
    disagreement_min_rate: float = MISSING


@dataclass
class TriageSettings:
    flagged: int = MISSING
    least_confident: int = MISSING
    random: int = MISSING
    top_phrases: int = MISSING
    seed: int = MISSING
    auto_approve: bool = MISSING
    bootstrap: int = MISSING
    split_merge_similarity: float = MISSING
    max_examples: int = MISSING
    report_top: int = MISSING
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
