"""The promotion rule: a pure function of measured numbers, clause by clause.

The challenger is promoted only when every clause holds:

- evidence: a non-empty regression set of at least ``min_regression_clips`` clips, and at least
  ``min_heldout_clips_per_term`` held-out drop occurrences of every term the drop is about;
  missing or thin evidence refuses, it never passes;
- regression WER: at most ``max_regression_wer_delta`` worse than the champion's, and at most
  ``max_total_regression_wer_delta`` worse than the first champion's (the baseline), so small
  losses cannot add up over iterations;
- held-out drop WER: at most ``max_heldout_wer_delta`` worse than the champion's;
- each term's recall: a term this drop brings that the champion has not learned (recall below
  ``learned_recall``) must gain at least ``min_term_recall_gain``; a term the champion has
  learned, and every term an earlier drop brought, may lose at most ``max_learned_recall_drop``
  (earlier drops' terms are judged on what they keep, whatever their level);
- each term's precision (false alarms on held-out drop and regression audio) at least
  ``min_term_precision``;
- the model checks pass.

The rules are ``conf/gate`` as it stands: :class:`~asrloop.settings.gate.GateSettings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asrloop.records import Candidate, Clause
from asrloop.settings.gate import GateSettings


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reason: str
    clauses: tuple[Clause, ...]


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
    challenger: Candidate, champion: Candidate, baseline: Candidate, rules: GateSettings
) -> list[Clause]:
    delta = challenger.regression_wer - champion.regression_wer
    total = challenger.regression_wer - baseline.regression_wer
    held = challenger.heldout_wer - champion.heldout_wer
    return [
        Clause(
            "regression.vs_champion",
            delta <= rules.max_regression_wer_delta,
            f"regression WER {challenger.regression_wer:.4f} vs champion "
            f"{champion.regression_wer:.4f}: {delta:+.4f} "
            f"(limit {rules.max_regression_wer_delta:+.4f})",
        ),
        Clause(
            "regression.vs_baseline",
            total <= rules.max_total_regression_wer_delta,
            f"regression WER {challenger.regression_wer:.4f} vs first champion v{baseline.version} "
            f"{baseline.regression_wer:.4f}: {total:+.4f} "
            f"(limit {rules.max_total_regression_wer_delta:+.4f})",
        ),
        Clause(
            "heldout.wer",
            held <= rules.max_heldout_wer_delta,
            f"held-out drop WER {challenger.heldout_wer:.4f} vs champion "
            f"{champion.heldout_wer:.4f}: {held:+.4f} (limit {rules.max_heldout_wer_delta:+.4f})",
        ),
    ]


def term_clauses(
    challenger: Candidate,
    champion: Candidate,
    terms: Sequence[str],
    new_terms: Sequence[str],
    rules: GateSettings,
) -> list[Clause]:
    clauses = []
    for term in terms:
        after = challenger.terms.get(term)
        before = champion.terms[term].recall if term in champion.terms else 0.0
        recall = after.recall if after else 0.0
        if term in new_terms and before < rules.learned_recall:
            gain = recall - before
            clauses.append(
                Clause(
                    f"term.{term}.recall",
                    gain >= rules.min_term_recall_gain,
                    f"'{term}' recall {before:.2f} -> {recall:.2f} "
                    f"(a new term must gain {rules.min_term_recall_gain:.2f})",
                )
            )
        else:
            kind = "a learned term" if term in new_terms else "an earlier drop's term"
            clauses.append(
                Clause(
                    f"term.{term}.recall",
                    before - recall <= rules.max_learned_recall_drop,
                    f"'{term}' recall {before:.2f} -> {recall:.2f} "
                    f"({kind} may lose {rules.max_learned_recall_drop:.2f})",
                )
            )
        written = after.tp + after.fp if after else 0
        precision = after.precision if written else 1.0
        clauses.append(
            Clause(
                f"term.{term}.precision",
                precision >= rules.min_term_precision,
                f"'{term}' precision {precision:.3f} "
                f"({after.fp if after else 0} false alarms; floor {rules.min_term_precision:.2f})",
            )
        )
    return clauses


def decide(
    challenger: Candidate,
    champion: Candidate | None,
    baseline: Candidate | None,
    terms: Sequence[str],
    rules: GateSettings,
    checks_passed: bool,
    new_terms: Sequence[str] | None = None,
) -> Verdict:
    """Promote or not, with every clause and the reasons of the failed ones.

    ``terms`` are every term the drops so far brought; ``new_terms`` those the newest drop
    brought (all of ``terms`` when not given).
    """
    new_terms = list(terms) if new_terms is None else list(new_terms)
    if champion is None:
        return Verdict(True, "first model: nothing to compare against", ())
    if challenger.version == champion.version:
        return Verdict(False, "challenger is already the champion", ())
    clauses = evidence_clauses(challenger, terms, rules)
    clauses += regression_clauses(challenger, champion, baseline or champion, rules)
    clauses += term_clauses(challenger, champion, terms, new_terms, rules)
    if rules.require_model_checks:
        outcome = "passed" if checks_passed else "failed"
        clauses.append(Clause("model_checks", checks_passed, f"model checks {outcome}"))
    failed = [c for c in clauses if not c.passed]
    evidence_missing = [c for c in failed if c.name.startswith("evidence.")]
    if evidence_missing:
        reason = "refused, evidence missing or thin: " + "; ".join(
            c.detail for c in evidence_missing
        )
        return Verdict(False, reason, tuple(clauses))
    if failed:
        return Verdict(False, "; ".join(c.detail for c in failed), tuple(clauses))
    gains = ", ".join(
        f"{t} {champion.terms[t].recall if t in champion.terms else 0:.2f}->"
        f"{challenger.terms[t].recall:.2f}"
        for t in new_terms
        if t in challenger.terms
    )
    delta = challenger.regression_wer - champion.regression_wer
    better = f"better on new terms ({gains})" if gains else "every earlier term kept"
    return Verdict(True, f"{better}, regression WER {delta:+.4f}", tuple(clauses))
