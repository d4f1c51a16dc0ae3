"""``conf/gate``: what "safely better" means before the champion alias moves."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING


@dataclass
class SliceRules:
    """``gate.slices``: a slice of the regression set (voice, family, accent, duration, noise)
    significantly worse than ``margin`` blocks promotion when it has ``min_clips`` clips."""

    block: bool = True
    min_clips: int = 30
    margin: float = 0.02  # WER points a slice may lose before its interval can block


@dataclass
class GateSettings:
    min_regression_clips: int = MISSING
    min_heldout_clips_per_term: int = MISSING
    max_regression_wer_delta: float = MISSING
    max_total_regression_wer_delta: float = MISSING
    max_heldout_wer_delta: float = MISSING
    learned_recall: float = MISSING
    min_term_recall_gain: float = MISSING
    max_learned_recall_drop: float = MISSING
    min_term_precision: float = MISSING
    require_model_checks: bool = MISSING
    target_recall: float = 0.95  # a term at or above this held-out recall is learned
    require_learned: bool = True  # a new term below target_recall refuses promotion
    confidence: float = 0.95  # of every interval the clauses read (two-sided)
    resamples: int = 2000  # bootstrap draws per interval
    power: float = 0.8  # for the clips-needed statement (asrloop.stats.power)
    slices: SliceRules = field(default_factory=SliceRules)
