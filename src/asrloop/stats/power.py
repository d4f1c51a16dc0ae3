"""How many clips a decision needs: the power calculation behind the regression set's size.

A WER difference measured on ``n`` clips has a standard error of about
``sd / (sqrt(n) * words_per_clip)``, where ``sd`` is the standard deviation of the per-clip
difference in errors between the two models. To tell a change of ``margin`` from none at the
given confidence (two-sided interval) with the given power:

    n = ((z(1 - alpha/2) + z(power)) * sd / (words_per_clip * margin)) ** 2

The same ``n`` lets a model with no true change clear a non-inferiority margin of ``margin``,
and catches a true regression of ``margin``, each with probability ``power``.
"""

from __future__ import annotations

import math

from scipy import stats

from asrloop.records import Interval


def clips_needed(
    sd_difference: float,
    words_per_clip: float,
    margin: float,
    confidence: float = 0.95,
    power: float = 0.8,
) -> int:
    """Clips needed to detect a WER change of ``margin`` (see the module docstring)."""
    if margin <= 0 or words_per_clip <= 0:
        raise ValueError(f"margin and words per clip must be positive: {margin}, {words_per_clip}")
    z = stats.norm.ppf(1 - (1 - confidence) / 2) + stats.norm.ppf(power)
    return max(1, math.ceil((z * sd_difference / (words_per_clip * margin)) ** 2))


def clips_to_decide(interval: Interval, clips: int, limit: float) -> int | None:
    """More clips that would put an interval straddling ``limit`` clear of it, if the estimate
    stayed where it is (the half-width shrinks as 1/sqrt(n)); None when the estimate sits on
    the limit (no number of clips decides it)."""
    distance = abs(interval.estimate - limit)
    half_width = max(interval.high - interval.estimate, interval.estimate - interval.low)
    if distance == 0:
        return None
    needed = math.ceil(clips * (half_width / distance) ** 2)
    return max(needed - clips, 1)
