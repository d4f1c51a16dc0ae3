"""Paired statistics (asrloop.stats): bootstrap intervals, matched-pairs tests, power, and the
per-utterance counts they read (asrloop.metrics)."""

from __future__ import annotations

import numpy as np
import pytest

from asrloop.metrics import error_counts, hypothesis_word_hits, term_hits, utterance_errors
from asrloop.records import Interval
from asrloop.stats.bootstrap import paired_difference, proportion_interval, rate_interval
from asrloop.stats.calibration import (
    apply_map,
    auroc,
    expected_calibration_error,
    fit_isotonic,
)
from asrloop.stats.power import clips_needed, clips_to_decide
from asrloop.stats.tests import matched_pairs

REFS = ["the prime minister spoke", "brexit talks resumed", "", "a b c d"]
HYPS = ["the prime minister spoke", "bread sit talks resumed", "uh", "a c d e"]


def test_per_utterance_errors_add_up_to_the_corpus_counts():
    errors, words = utterance_errors(REFS, HYPS)
    assert errors == [0, 2, 1, 2]  # brexit -> bread sit: a substitution and an insertion
    assert words == [4, 3, 0, 4]
    counts = error_counts(REFS, HYPS)
    assert sum(errors) == counts["errors"] and sum(words) == counts["ref_words"]


def test_term_hits_count_multi_word_terms_per_utterance():
    hits, said, written = term_hits(
        ["the prime minister and the prime minister", "prime time", "no term"],
        ["the prime minister and the prime", "prime minister time", "no term"],
        "Prime Minister",
    )
    assert (hits, said, written) == ([1, 0, 0], [2, 0, 0], [1, 1, 0])


def test_rate_interval_brackets_the_rate_and_is_reproducible():
    rng = np.random.default_rng(0)
    words = rng.integers(5, 15, 300)
    errors = rng.binomial(words, 0.1)
    interval = rate_interval(errors, words)
    assert interval.low < interval.estimate < interval.high
    assert interval.estimate == pytest.approx(errors.sum() / words.sum())
    assert interval == rate_interval(errors, words)  # seeded
    assert interval.low > 0.06 and interval.high < 0.14


def test_identical_models_give_a_zero_interval():
    errors, words = [0, 2, 1, 3, 0], [5, 6, 4, 7, 5]
    interval = paired_difference(errors, errors, words)
    assert (interval.estimate, interval.low, interval.high) == (0.0, 0.0, 0.0)
    tests = matched_pairs(errors, errors)
    assert tests.changed == 0 and tests.mapsswe_p == 1.0 and tests.sign_p == 1.0


def test_a_planted_regression_lies_above_zero_and_the_tests_agree():
    rng = np.random.default_rng(1)
    words = rng.integers(5, 15, 400)
    a = rng.binomial(words, 0.08)
    b = a + (rng.random(400) < 0.3)  # about 3 points worse
    interval = paired_difference(a, b, words)
    assert interval.low > 0.01, interval
    tests = matched_pairs(a, b)
    assert tests.mean_difference > 0
    assert max(tests.mapsswe_p, tests.sign_p, tests.wilcoxon_p) < 1e-6


def test_pairing_narrows_the_interval():
    """Two models that share most errors: the paired interval is far narrower than the span of
    the two separate intervals."""
    rng = np.random.default_rng(2)
    words = rng.integers(5, 15, 300)
    a = rng.binomial(words, 0.1)
    b = a + rng.integers(-1, 2, 300) * (rng.random(300) < 0.1)
    b = np.maximum(b, 0)
    paired = paired_difference(a, b, words)
    separate = rate_interval(b, words).high - rate_interval(a, words).low
    assert paired.high - paired.low < 0.5 * separate


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference([1, 2], [1], [3, 3])


def test_power_calculation():
    # z(0.975) + z(0.8) = 2.8016; (2.8016 * 1 / (10 * 0.01))^2 = 784.9
    assert clips_needed(1.0, 10.0, 0.01) == 785
    assert clips_needed(1.0, 10.0, 0.005) == 3140  # halving the margin: 4x the clips (784.9 x 4)
    with pytest.raises(ValueError):
        clips_needed(1.0, 10.0, 0.0)


def test_clips_to_decide_scales_the_half_width():
    straddling = Interval(0.002, -0.002, 0.006, 0.95)
    # half-width 0.004 must shrink to 0.003 (the distance to 0.005): n * (4/3)^2 = 178 of 100
    assert clips_to_decide(straddling, 100, 0.005) == 78
    assert clips_to_decide(Interval(0.005, 0.0, 0.01, 0.95), 100, 0.005) is None


def test_wilson_interval():
    interval = proportion_interval(20, 20)
    assert interval.estimate == 1.0 and interval.high == 1.0
    assert interval.low == pytest.approx(0.839, abs=0.002)
    assert proportion_interval(0, 0).low == 0.0


# -- word confidence -----------------------------------------------------------------------


def test_hypothesis_word_hits_follow_the_alignment():
    assert hypothesis_word_hits("Brexit talks resumed", ["bread", "sit", "talks", "resumed"]) == [
        False,
        False,
        True,
        True,
    ]
    assert hypothesis_word_hits("", ["uh"]) == [False]
    assert hypothesis_word_hits("a b", []) == []


def test_isotonic_calibration_fixes_overconfidence_and_keeps_the_ranking():
    rng = np.random.default_rng(3)
    raw = rng.uniform(0.5, 1.0, 4000)
    correct = rng.random(4000) < (raw - 0.5) * 1.6  # shown 0.9 but right 64 % of the time
    mapping = fit_isotonic(raw, correct)
    assert list(mapping.calibrated) == sorted(mapping.calibrated)  # non-decreasing
    assert len(mapping.raw) <= 32
    calibrated = [apply_map(mapping, c) for c in raw]
    assert expected_calibration_error(raw, correct) > 0.1
    assert expected_calibration_error(calibrated, correct) < 0.03
    assert auroc(calibrated, correct) == pytest.approx(auroc(raw, correct), abs=0.02)


def test_auroc_and_ece_on_hand_made_cases():
    assert auroc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert auroc([0.5, 0.5], [True, False]) == 0.5
    assert auroc([0.9], [True]) == 0.5  # one kind only: no ranking to judge
    # one bin (0.8-0.87) at confidence 0.8, accuracy 0.5: ECE 0.3
    assert expected_calibration_error([0.8, 0.8], [True, False]) == pytest.approx(0.3)
