"""The promotion rule: a pure function of measured numbers and their intervals, clause by clause.

The challenger is promoted only when every clause holds. A clause on a measured difference reads
its paired 95 % interval (``gate.confidence``; :mod:`asrloop.loop.gate_evidence`) and has three
outcomes: ``pass`` when the whole interval is on the allowed side of the limit, ``fail`` when the
whole interval is on the other side, ``undecided`` when it straddles the limit: the evidence is
too small to decide, the gate refuses and says about how many more clips would decide it.

- evidence: a non-empty regression set of at least ``min_regression_clips`` clips, and at least
  ``min_heldout_clips_per_term`` held-out drop occurrences of every term the drop is about;
  missing or thin evidence refuses, it never passes;
- no drift (non-inferiority): the upper bound of the regression-WER difference at most
  ``max_regression_wer_delta`` against the champion, and ``max_total_regression_wer_delta``
  against the first champion (the baseline), so small losses cannot add up over iterations;
- held-out drop WER: the upper bound of the difference at most ``max_heldout_wer_delta``;
- each term's recall (paired interval of the difference on held-out audio): a term this drop
  brings that the champion has not learned (recall below ``learned_recall``) must gain at least
  ``min_term_recall_gain`` at the interval's *lower* bound; a term the champion has learned, and
  every term an earlier drop brought, may lose at most ``max_learned_recall_drop`` (lower bound);
- each term this drop brings must end *learned*: held-out recall at least ``target_recall``
  (``require_learned``; otherwise the term is reported as ``improving`` or ``not learned`` and
  the model may still be promoted). Every term gets a :class:`TermStatus` either way;
- each term's precision (false alarms on held-out drop and regression audio) at least
  ``min_term_precision``: a floor on the observed count, its interval shown (one false alarm in
  twenty already fails it);
- no slice of the regression set significantly worse than ``slices.margin`` (``slices.block``);
- the model checks pass.

Without per-clip data (a :class:`Comparison` not given) the intervals are the points themselves.
The rules are ``conf/gate`` as it stands: :class:`~asrloop.settings.gate.GateSettings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from asrloop.loop.gate_evidence import Comparison
from asrloop.records import Candidate, Clause, Interval, SliceComparison, TermStatus
from asrloop.settings.gate import GateSettings
from asrloop.stats.bootstrap import proportion_interval
from asrloop.stats.power import clips_to_decide


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reason: str
    clauses: tuple[Clause, ...]
    term_status: dict[str, TermStatus] = field(default_factory=dict)


def point(value: float) -> Interval:
    return Interval(value, value, value, 1.0)


def point_comparison(challenger: Candidate, other: Candidate) -> Comparison:
    """A comparison from the numbers alone (zero-width intervals)."""
    recall = {
        t: point(s.recall - (other.terms[t].recall if t in other.terms else 0.0))
        for t, s in challenger.terms.items()
    }
    return Comparison(
        other.version,
        point(challenger.regression_wer - other.regression_wer),
        point(challenger.heldout_wer - other.heldout_wer),
        challenger.regression_clips,
        challenger.heldout_clips,
        recall,
    )


def bounded(name: str, interval: Interval, limit: float, upper: bool, clips: int, what: str):
    """A clause on ``interval``: at most ``limit`` (``upper``) or at least ``limit``."""
    inside = interval.high <= limit if upper else interval.low >= limit
    outside = interval.low > limit if upper else interval.high < limit
    outcome = "pass" if inside else "fail" if outside else "undecided"
    more = clips_to_decide(interval, clips, limit) if outcome == "undecided" else None
    share = f"{interval.confidence:.0%} interval" if interval.confidence < 1 else "point"
    side = "at most" if upper else "at least"
    detail = f"{what} {interval} ({share}; {side} {limit:+.4f})"
    if outcome == "undecided":
        detail += ": too little evidence to decide" + (
            f", about {more} more would decide it" if more else ""
        )
    return Clause(name, inside, detail, outcome, interval, limit, more)


def evidence_clauses(
    challenger: Candidate, terms: Sequence[str], rules: GateSettings
) -> list[Clause]:
    clauses = [
        Clause(
            "evidence.regression",
            challenger.regression_clips >= rules.min_regression_clips,
            f"{challenger.regression_clips} regression clips (need {rules.min_regression_clips})",
        )
    ]
    for term in terms:
        support = challenger.terms[term].support if term in challenger.terms else 0
        clauses.append(
            Clause(
                f"evidence.term.{term}",
                support >= rules.min_heldout_clips_per_term,
                f"'{term}' said {support} times in held-out drop audio "
                f"(need {rules.min_heldout_clips_per_term})",
            )
        )
    return clauses


def regression_clauses(
    challenger: Candidate,
    champion: Comparison,
    baseline: Comparison,
    rules: GateSettings,
) -> list[Clause]:
    regression = challenger.regression_clips
    vs_champion = bounded(
        "regression.vs_champion",
        champion.regression,
        rules.max_regression_wer_delta,
        True,
        regression,
        f"regression WER {challenger.regression_wer:.4f} minus champion v{champion.version}:",
    )
    if champion.tests is not None:
        vs_champion = replace(vs_champion, tests=champion.tests)
    return [
        vs_champion,
        bounded(
            "regression.vs_baseline",
            baseline.regression,
            rules.max_total_regression_wer_delta,
            True,
            regression,
            f"regression WER minus first champion v{baseline.version}:",
        ),
        bounded(
            "heldout.wer",
            champion.heldout,
            rules.max_heldout_wer_delta,
            True,
            challenger.heldout_clips,
            f"held-out drop WER {challenger.heldout_wer:.4f} minus champion:",
        ),
    ]


def term_clauses(
    challenger: Candidate,
    champion: Candidate,
    versus: Comparison,
    terms: Sequence[str],
    new_terms: Sequence[str],
    rules: GateSettings,
) -> list[Clause]:
    clauses = []
    for term in terms:
        after = challenger.terms.get(term)
        before = champion.terms[term].recall if term in champion.terms else 0.0
        recall = after.recall if after else 0.0
        gain = versus.recall.get(term, point(recall - before))
        support = after.support if after else 0
        what = f"'{term}' recall {before:.2f} -> {recall:.2f}, change"
        if term in new_terms and before < rules.learned_recall:
            limit, what = rules.min_term_recall_gain, f"{what} (a new term must gain)"
        else:
            kind = "a learned term" if term in new_terms else "an earlier drop's term"
            limit, what = -rules.max_learned_recall_drop, f"{what} ({kind} may lose a little)"
        clauses.append(bounded(f"term.{term}.recall", gain, limit, False, support, what))
        clauses.append(precision_clause(term, after, rules))
    return clauses


def term_status(recall: float, before: float, gain: Interval, target: float) -> TermStatus:
    """Learned at ``target``; below it, improving when the recall gain's lower bound is above
    zero, not learned otherwise."""
    if recall >= target:
        return TermStatus("learned", recall, target, f"recall {recall:.2f} >= {target:.2f}")
    if gain.low > 0:
        reason = (
            f"recall {before:.2f} -> {recall:.2f}, gain {gain.low:+.2f} at least, "
            f"below the target {target:.2f}"
        )
        return TermStatus("improving", recall, target, reason)
    reason = f"recall {before:.2f} -> {recall:.2f}, no significant gain, target {target:.2f}"
    return TermStatus("not learned", recall, target, reason)


def statuses(
    challenger: Candidate, champion: Candidate, versus: Comparison, terms: Sequence[str], target
) -> dict[str, TermStatus]:
    out = {}
    for term in terms:
        after = challenger.terms.get(term)
        recall = after.recall if after else 0.0
        before = champion.terms[term].recall if term in champion.terms else 0.0
        gain = versus.recall.get(term, point(recall - before))
        out[term] = term_status(recall, before, gain, target)
    return out


def learned_clauses(
    status: dict[str, TermStatus], new_terms: Sequence[str], rules: GateSettings
) -> list[Clause]:
    """A new term must end learned (``require_learned``); otherwise the clause only reports."""
    clauses = []
    for term in new_terms:
        if term not in status:
            continue
        state = status[term]
        learned = state.status == "learned"
        detail = f"'{term}' {state.status}: {state.reason}"
        if not learned and not rules.require_learned:
            detail += " (promotion allowed: gate.require_learned is false)"
        passed = learned or not rules.require_learned
        clauses.append(Clause(f"term.{term}.learned", passed, detail, "pass" if passed else "fail"))
    return clauses


def precision_clause(term: str, after, rules: GateSettings) -> Clause:
    written = after.tp + after.fp if after else 0
    precision = after.precision if written else 1.0
    interval = proportion_interval(after.tp if after else 0, written, rules.confidence)
    passed = precision >= rules.min_term_precision
    return Clause(
        f"term.{term}.precision",
        passed,
        f"'{term}' precision {precision:.3f} {interval.low:.3f}-{interval.high:.3f} "
        f"({after.fp if after else 0} false alarms; floor {rules.min_term_precision:.2f})",
        "pass" if passed else "fail",
        interval,
        rules.min_term_precision,
    )


def slice_clauses(slices: Sequence[SliceComparison], rules: GateSettings) -> list[Clause]:
    if not rules.slices.block:
        return []
    blocking = [s for s in slices if s.blocks]
    detail = "; ".join(f"{s.name} ({s.clips} clips) {s.difference}" for s in blocking)
    judged = sum(1 for s in slices if s.clips >= rules.slices.min_clips)
    return [
        Clause(
            "regression.slices",
            not blocking,
            f"slices significantly worse than {rules.slices.margin:+.4f}: {detail}"
            if blocking
            else f"no slice of {judged} judged significantly worse than {rules.slices.margin:+.4f}",
            "fail" if blocking else "pass",
        )
    ]


def decide(
    challenger: Candidate,
    champion: Candidate | None,
    baseline: Candidate | None,
    terms: Sequence[str],
    rules: GateSettings,
    checks_passed: bool,
    new_terms: Sequence[str] | None = None,
    vs_champion: Comparison | None = None,
    vs_baseline: Comparison | None = None,
    slices: Sequence[SliceComparison] = (),
) -> Verdict:
    """Promote or not, with every clause and the reasons of the failed ones.

    ``terms`` are every term the drops so far brought; ``new_terms`` those the newest drop
    brought (all of ``terms`` when not given). ``vs_champion``/``vs_baseline``: the paired
    intervals (points from the candidates when not given)."""
    new_terms = list(terms) if new_terms is None else list(new_terms)
    if champion is None:
        return Verdict(True, "first model: nothing to compare against", ())
    if challenger.version == champion.version:
        return Verdict(False, "challenger is already the champion", ())
    baseline = baseline or champion
    vs_champion = vs_champion or point_comparison(challenger, champion)
    if vs_baseline is None:
        same = baseline.version == champion.version
        vs_baseline = vs_champion if same else point_comparison(challenger, baseline)
    clauses = evidence_clauses(challenger, terms, rules)
    clauses += regression_clauses(challenger, vs_champion, vs_baseline, rules)
    clauses += slice_clauses(slices, rules)
    clauses += term_clauses(challenger, champion, vs_champion, terms, new_terms, rules)
    status = statuses(challenger, champion, vs_champion, terms, rules.target_recall)
    clauses += learned_clauses(status, new_terms, rules)
    if rules.require_model_checks:
        outcome = "passed" if checks_passed else "failed"
        clauses.append(Clause("model_checks", checks_passed, f"model checks {outcome}"))
    promote, reason = _reason(challenger, champion, new_terms, clauses, status)
    return Verdict(promote, reason, tuple(clauses), status)


def _reason(
    challenger: Candidate,
    champion: Candidate,
    new_terms: Sequence[str],
    clauses: list[Clause],
    status: dict[str, TermStatus],
) -> tuple[bool, str]:
    failed = [c for c in clauses if not c.passed]
    evidence_missing = [c for c in failed if c.name.startswith("evidence.")]
    if evidence_missing:
        return False, "refused, evidence missing or thin: " + "; ".join(
            c.detail for c in evidence_missing
        )
    undecided = [c for c in failed if c.outcome == "undecided"]
    if failed and len(undecided) == len(failed):
        return False, "refused, too little evidence to decide: " + "; ".join(
            c.detail for c in undecided
        )
    if failed:
        return False, "; ".join(c.detail for c in failed)
    gains = ", ".join(
        f"{t} {champion.terms[t].recall if t in champion.terms else 0:.2f}->"
        f"{challenger.terms[t].recall:.2f}" + (f" {status[t].status}" if t in status else "")
        for t in new_terms
        if t in challenger.terms
    )
    delta = challenger.regression_wer - champion.regression_wer
    better = f"better on new terms ({gains})" if gains else "every earlier term kept"
    return True, f"{better}, regression WER {delta:+.4f}"
