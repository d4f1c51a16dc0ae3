"""``conf/gate``: what "safely better" means before the champion alias moves."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING


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
