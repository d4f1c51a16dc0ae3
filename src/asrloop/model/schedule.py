"""Learning-rate schedules, built from config (``train.scheduler``, ``_partial_: true``)."""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int, floor: float) -> float:
    """Linear warmup to 1, then cosine decay to ``floor`` at ``total_steps``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def warmup_cosine(
    optimizer: Optimizer,
    total_steps: int,
    warmup_steps: int,
    floor: float,
    last_step: int = 0,
) -> LambdaLR:
    """A scheduler whose learning rate is already the one for step ``last_step`` (a resumed run
    continues the curve; the optimizer then carries ``initial_lr`` from its saved state)."""

    def factor(step: int) -> float:
        return warmup_cosine_factor(step, warmup_steps, total_steps, floor)

    return LambdaLR(optimizer, factor, last_epoch=last_step - 1)
