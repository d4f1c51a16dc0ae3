"""Bootstrap intervals over utterances (Bisani & Ney, ICASSP 2004).

A rate (WER, a term's recall) is ``sum(numerator) / sum(denominator)`` over utterances; the
utterance is the resampling unit because the words of one clip are not independent. A *paired*
interval resamples the same utterances for both models, so what two models share (hard clips,
easy clips) cancels and only their difference varies: on 1,000 clips this interval is several
times narrower than the difference of two separate intervals.

Percentile intervals from ``resamples`` draws (2,000 by default: the 2.5 % quantile then rests
on 50 draws); the generator is seeded, so one input gives one interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asrloop.records import Interval

DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 20041


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise rate; 0 where nothing was to be recognised (the metrics' convention)."""
    safe = np.where(denominator > 0, denominator, 1)
    return np.where(denominator > 0, numerator / safe, 0.0)


def _draws(n: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def _interval(estimate: float, draws: np.ndarray, confidence: float) -> Interval:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail])
    return Interval(float(estimate), float(low), float(high), confidence)


def _arrays(*columns: Sequence[float]) -> list[np.ndarray]:
    arrays = [np.asarray(c, dtype=np.float64) for c in columns]
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
        raise ValueError(f"per-utterance columns differ in length: {[a.shape for a in arrays]}")
    return arrays


def rate_interval(
    numerator: Sequence[float],
    denominator: Sequence[float],
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """Interval of ``sum(numerator) / sum(denominator)`` (e.g. errors over reference words)."""
    num, den = _arrays(numerator, denominator)
    estimate = float(_ratio(num.sum(), den.sum()))
    if len(num) == 0:
        return Interval(estimate, estimate, estimate, confidence)
    idx = _draws(len(num), resamples, seed)
    return _interval(estimate, _ratio(num[idx].sum(1), den[idx].sum(1)), confidence)


def paired_difference(
    numerator_a: Sequence[float],
    numerator_b: Sequence[float],
    denominator: Sequence[float],
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """Interval of B's rate minus A's on the same utterances (``denominator`` is shared: the
    reference words, or a term's occurrences). Positive: B has the higher rate."""
    a, b, den = _arrays(numerator_a, numerator_b, denominator)
    estimate = float(_ratio(b.sum(), den.sum()) - _ratio(a.sum(), den.sum()))
    if len(a) == 0:
        return Interval(estimate, estimate, estimate, confidence)
    idx = _draws(len(a), resamples, seed)
    dens = den[idx].sum(1)
    return _interval(
        estimate, _ratio(b[idx].sum(1), dens) - _ratio(a[idx].sum(1), dens), confidence
    )


def proportion_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval of ``successes / trials`` (a precision, a single recall); the
    whole [0, 1] when there were no trials."""
    from scipy import stats

    if trials == 0:
        return Interval(1.0, 0.0, 1.0, confidence)
    p = successes / trials
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z * ((p * (1 - p) / trials + z * z / (4 * trials * trials)) ** 0.5) / (1 + z * z / trials)
    )
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), confidence)
