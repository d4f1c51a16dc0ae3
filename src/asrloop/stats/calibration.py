"""Word confidence that means what it says: isotonic calibration, its error and its ranking.

A decoder's word confidence (the mean posterior of the word's tokens) ranks words well but is
not a probability: on this project's models a word shown at 0.9 is right less often than 90 %
of the time. :func:`fit_isotonic` learns a non-decreasing map from raw confidence to the share
of words that are right (pool-adjacent-violators over dev words), stored as knots and applied
by linear interpolation. :func:`expected_calibration_error` (15 equal-width bins) says how far
shown confidence is from accuracy; :func:`auroc` how well confidence separates right words from
wrong ones (a monotone map leaves it unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asrloop.records import ConfidenceMap

BINS = 15
MAX_KNOTS = 32  # the stored map stays small (a registry tag, a serving file)


def fit_isotonic(confidence: Sequence[float], correct: Sequence[bool]) -> ConfidenceMap:
    """The non-decreasing least-squares fit of ``correct`` on ``confidence``."""
    x = np.asarray(confidence, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    if len(x) == 0:
        return ConfidenceMap((0.0, 1.0), (0.0, 1.0), 0)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    # pool adjacent violators: blocks of (sum, count), merged while a block's mean falls
    sums, counts, highs = [], [], []
    for xi, yi in zip(x, y, strict=True):
        sums.append(yi)
        counts.append(1.0)
        highs.append(xi)
        while len(sums) > 1 and sums[-2] / counts[-2] >= sums[-1] / counts[-1]:
            total, count, high = sums.pop(), counts.pop(), highs.pop()
            sums[-1] += total
            counts[-1] += count
            highs[-1] = high
    means = np.array(sums) / np.array(counts)
    knots_x, knots_y = np.array(highs), means
    if len(knots_x) > MAX_KNOTS:  # keep the shape, drop knots: quantiles of the fitted curve
        keep = np.unique(np.linspace(0, len(knots_x) - 1, MAX_KNOTS).round().astype(int))
        knots_x, knots_y = knots_x[keep], knots_y[keep]
    return ConfidenceMap(
        tuple(round(float(v), 4) for v in knots_x),
        tuple(round(float(v), 4) for v in knots_y),
        len(x),
    )


def apply_map(mapping: ConfidenceMap, confidence: float) -> float:
    """Calibrated confidence (flat beyond the first and last knots)."""
    return float(np.interp(confidence, mapping.raw, mapping.calibrated))


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool]) -> float:
    """Words binned by confidence: the mean |accuracy - confidence| weighted by bin size."""
    x = np.asarray(confidence, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    if len(x) == 0:
        return 0.0
    bins = np.minimum((x * BINS).astype(int), BINS - 1)
    total = 0.0
    for b in np.unique(bins):
        members = bins == b
        total += members.sum() * abs(y[members].mean() - x[members].mean())
    return float(total / len(x))


def auroc(confidence: Sequence[float], correct: Sequence[bool]) -> float:
    """The probability that a wrong word gets a lower confidence than a right one (ties half):
    the AUROC of "this word is wrong" scored by low confidence. 0.5 when only one kind exists."""
    x = np.asarray(confidence, dtype=np.float64)
    y = np.asarray(correct, dtype=bool)
    right, wrong = x[y], x[~y]
    if len(right) == 0 or len(wrong) == 0:
        return 0.5
    ranks = _ranks(np.concatenate([wrong, right]))
    right_ranks = ranks[len(wrong) :].sum()
    return float((right_ranks - len(right) * (len(right) + 1) / 2) / (len(right) * len(wrong)))


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given their average rank."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end + 1) / 2
            start = end
    return ranks
