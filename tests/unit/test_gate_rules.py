"""The promotion rule, clause by clause: table-driven (each clause shown able to fail) and
property-based (hypothesis)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asrloop.config import compose
from asrloop.loop.gate_rules import decide
from asrloop.records import Candidate, TermScores
from asrloop.settings import typed

RULES = typed(compose()).gate  # conf/gate as shipped: a GateSettings
TERMS = ["alpha", "beta gamma"]


def scores(recall: float, support: int = 20, fp: int = 0) -> TermScores:
    tp = round(recall * support)
    precision = tp / (tp + fp) if tp + fp else 0.0
    return TermScores(tp / support if support else 0.0, precision, tp, support - tp, fp, support)


def model(version: str, regression=0.09, heldout=0.10, recall=1.0, fp=0, **overrides):
    terms = {t: scores(recall, fp=fp) for t in TERMS}
    terms.update(overrides.pop("terms", {}))
    fields = dict(
        version=version,
        regression_wer=regression,
        regression_clips=150,
        heldout_wer=heldout,
        heldout_clips=120,
        terms=terms,
    )
    return Candidate(**{**fields, **overrides})


CHAMPION = model("1", heldout=0.20, recall=0.0)
GOOD = model("2")


def verdict(challenger, champion=CHAMPION, baseline=CHAMPION, checks=True, rules=RULES):
    return decide(challenger, champion, baseline, TERMS, rules, checks)


def test_a_safely_better_challenger_is_promoted():
    result = verdict(GOOD)
    assert result.promote, result.reason
    assert all(c.passed for c in result.clauses)
    assert "better on new terms" in result.reason


# each row: (why, challenger, champion, baseline, checks passed, the clause that fails)
FAILING = [
    (
        "no regression set",
        model("2", regression_clips=0),
        CHAMPION,
        CHAMPION,
        True,
        "evidence.regression",
    ),
    (
        "thin regression set",
        model("2", regression_clips=RULES.min_regression_clips - 1),
        CHAMPION,
        CHAMPION,
        True,
        "evidence.regression",
    ),
    (
        "no held-out clips of a term",
        model("2", terms={"alpha": scores(1.0, support=0)}),
        CHAMPION,
        CHAMPION,
        True,
        "evidence.term.alpha",
    ),
    (
        "a term missing from the measurement",
        dataclasses.replace(GOOD, terms={"alpha": scores(1.0)}),
        CHAMPION,
        CHAMPION,
        True,
        "evidence.term.beta gamma",
    ),
    (
        "regression worse than the champion's",
        model("2", regression=0.09 + 0.006),
        CHAMPION,
        CHAMPION,
        True,
        "regression.vs_champion",
    ),
    (
        "regression drifted from the first champion",
        model("2", regression=0.104),
        model("1", regression=0.100, heldout=0.2, recall=0.0),
        model("0", regression=0.098),
        True,
        "regression.vs_baseline",
    ),
    ("held-out WER worse", model("2", heldout=0.21), CHAMPION, CHAMPION, True, "heldout.wer"),
    (
        "a new term gained too little",
        model("2", recall=RULES.min_term_recall_gain - 0.1),
        CHAMPION,
        CHAMPION,
        True,
        "term.alpha.recall",
    ),
    (
        "a learned term lost recall",
        model("3", recall=0.8),
        model("2", recall=1.0),
        model("2", recall=1.0),
        True,
        "term.alpha.recall",
    ),
    ("false alarms", model("2", fp=5), CHAMPION, CHAMPION, True, "term.alpha.precision"),
    ("model checks failed", GOOD, CHAMPION, CHAMPION, False, "model_checks"),
]


@pytest.mark.parametrize(
    ("why", "challenger", "champion", "baseline", "checks", "clause"),
    FAILING,
    ids=[row[0] for row in FAILING],
)
def test_each_clause_can_refuse(why, challenger, champion, baseline, checks, clause):
    result = decide(challenger, champion, baseline, TERMS, RULES, checks)
    assert not result.promote, why
    failed = {c.name for c in result.clauses if not c.passed}
    assert clause in failed, (why, failed)


def test_missing_evidence_refuses_and_says_so():
    result = verdict(model("2", regression_clips=0, terms={}))
    assert not result.promote and result.reason.startswith("refused, evidence missing or thin")


def test_first_model_and_same_version():
    assert decide(GOOD, None, None, TERMS, RULES, True).promote
    assert not verdict(GOOD, champion=GOOD).promote


def test_a_term_the_challenger_never_writes_has_no_false_alarms():
    silent = model(
        "2", terms={"alpha": scores(1.0), "beta gamma": TermScores(0.0, 0.0, 0, 0, 0, 20)}
    )
    result = verdict(silent)
    clauses = {c.name: c for c in result.clauses}
    assert clauses["term.beta gamma.precision"].passed
    assert not clauses["term.beta gamma.recall"].passed  # but it did not learn the term


candidates = st.builds(
    lambda reg, held, recall, fp: model("2", regression=reg, heldout=held, recall=recall, fp=fp),
    st.floats(0.0, 0.5),
    st.floats(0.0, 0.5),
    st.floats(0.0, 1.0),
    st.integers(0, 10),
)


@given(candidates, st.booleans())
def test_promotion_means_every_clause_held(challenger, checks):
    result = verdict(challenger, checks=checks)
    assert result.promote == all(c.passed for c in result.clauses)
    if result.promote:
        assert challenger.regression_wer <= CHAMPION.regression_wer + RULES.max_regression_wer_delta
        assert checks


@given(candidates)
def test_worse_regression_never_turns_a_refusal_into_a_promotion(challenger):
    worse = dataclasses.replace(challenger, regression_wer=challenger.regression_wer + 0.01)
    if not verdict(challenger).promote:
        assert not verdict(worse).promote


@given(st.floats(0.0, 0.004), st.integers(1, 20))
def test_small_regressions_cannot_add_up(step, iterations):
    """Each challenger only slightly worse than its champion: the first champion's budget stops
    the drift once the total passes it."""
    first = model("1", regression=0.09, recall=1.0)
    champion = first
    for k in range(2, iterations + 2):
        challenger = model(str(k), regression=champion.regression_wer + step, recall=1.0)
        result = decide(challenger, champion, first, TERMS, RULES, True)
        if result.promote:
            champion = challenger
    assert champion.regression_wer - first.regression_wer <= RULES.max_total_regression_wer_delta


def test_an_earlier_drops_term_is_judged_on_what_it_keeps():
    """Drop 2 brings "beta gamma"; "alpha" came with drop 1 and was learned to 0.85, below
    ``learned_recall``: it need not gain again, only keep its recall."""
    champion = model("2", heldout=0.20, terms={"alpha": scores(0.85), "beta gamma": scores(0.0)})
    kept = model("3", terms={"alpha": scores(0.85)})
    result = decide(kept, champion, CHAMPION, TERMS, RULES, True, new_terms=["beta gamma"])
    assert result.promote, result.reason
    assert "beta gamma 0.00->1.00" in result.reason and "alpha" not in result.reason

    lost = model("3", terms={"alpha": scores(0.85 - RULES.max_learned_recall_drop - 0.1)})
    result = decide(lost, champion, CHAMPION, TERMS, RULES, True, new_terms=["beta gamma"])
    assert not result.promote
    assert {c.name for c in result.clauses if not c.passed} == {"term.alpha.recall"}
    # read as a new term instead, the same numbers would have to gain 0.5
    assert not decide(kept, champion, CHAMPION, TERMS, RULES, True).promote


def test_a_drop_without_new_terms_says_so():
    learned = model("2", heldout=0.20)
    result = decide(model("3"), learned, CHAMPION, TERMS, RULES, True, new_terms=[])
    assert result.promote and result.reason.startswith("every earlier term kept"), result.reason
