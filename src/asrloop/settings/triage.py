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


STRATEGIES = (  # asrloop.loop.selection ranks the review pool by one of these
    "mixed",
    "random",
    "least_confidence",
    "margin",
    "entropy",
    "disagreement",
    "term_focused",
)
CHOICES = {"triage.selection.strategy": STRATEGIES}


@dataclass
class SelectionSettings:
    """Which clips the review queue holds, in which order (``triage.selection``)."""

    strategy: str = "mixed"
    size: int | None = None  # rows of a ranked strategy; None: flagged + least_confident + random
    explore_every: int = 0  # every n-th row a uniformly random clip (not for mixed, random); 0: off
    diversity_k: int = 0  # the first k rows: no two of one voice and sentence pattern; 0: off
    pattern_similarity: float = 0.5  # hypotheses sharing this share of word pairs: one pattern
    near_miss_similarity: float = 0.75  # term_focused: a phrase this alike to a flagged one
    group_overlap: float = 0.0  # flagged phrases sharing this share of clips: one share; 0: off


@dataclass
class ReviewerSettings:
    """The simulated reviewer (``triage.auto_approve``): rows in rank order, each costing its
    audio plus a decision time, until a budget runs out (None: no limit)."""

    decision_seconds: float = 10.0
    budget_clips: int | None = None
    budget_minutes: float | None = None


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
    selection: SelectionSettings = field(default_factory=SelectionSettings)
    reviewer: ReviewerSettings = field(default_factory=ReviewerSettings)
