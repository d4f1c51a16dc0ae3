"""The gate (``asrloop gate``): promote the challenger only when it is safely better.

The challenger, the champion and the first champion (alias ``baseline``) are measured once, each
with the vocabulary it shipped with, on the frozen regression set and the held-out part of every
drop so far; the model checks reuse those numbers. :mod:`asrloop.loop.gate_rules` decides.

Write-ahead: the decision (``reports/gate/v<N>.json``, :class:`asrloop.records.GateDecision`)
and the version's tags are recorded *before* the champion alias moves, and the record is marked
``applied`` after. A rerun reads the record and completes a half-done gate instead of measuring
again, but only when the record's digest matches the one tagged on the version in the registry
(written before the record): an edited or forged record is measured again, never obeyed. The
latest candidate always carries the ``challenger`` alias.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from asrloop.checks.model import Evidence, RegressionComparison, check_model
from asrloop.corpus.manifest import Utterance
from asrloop.evaluate import metric_name
from asrloop.execution import LOCAL, Executor
from asrloop.faults import fault_point
from asrloop.inference.batch import Prediction, PredictionCache, transcribe_utterances
from asrloop.inference.loading import DecodingSetup, load_recognizer
from asrloop.inference.recognizer import Recognizer
from asrloop.loop.gate_evidence import (
    compare,
    power_statement,
    slice_comparisons,
)
from asrloop.loop.gate_rules import decide
from asrloop.metrics import biased_errors, false_alarm_clips, term_stats, wer
from asrloop.model.registry import Registry
from asrloop.progress import console
from asrloop.records import Candidate, GateDecision, ModelInfo
from asrloop.scoring import score
from asrloop.settings.checks import ModelChecksSettings
from asrloop.settings.gate import GateSettings

CHALLENGER_ALIAS = "challenger"
BASELINE_ALIAS = "baseline"


@dataclass(frozen=True)
class EvidenceSets:
    """The audio every model is measured on, and the terms that count."""

    regression: list[Utterance]
    heldout: list[Utterance]
    terms: list[str]  # every term the drops so far brought
    new_terms: list[str]  # the terms the newest drop brought: these must be learned
    batch_seconds: float
    cache: PredictionCache | None = None  # predictions evaluation already made
    executor: Executor = LOCAL  # where the clips are transcribed (conf/executor)


@dataclass(frozen=True)
class Measurement:
    candidate: Candidate
    regression: list[Prediction]
    heldout: list[Prediction]
    recognizer: Recognizer
    info: ModelInfo

    @property
    def predictions(self) -> tuple[list[Prediction], list[Prediction]]:
        return self.regression, self.heldout


def candidate(
    version: str, regression: Sequence[Prediction], heldout: Sequence[Prediction], terms
) -> Candidate:
    """A version's numbers: WERs, and each term's recall (held-out audio) and precision
    (held-out and regression audio: a term written where it was not said is a false alarm)."""
    both = [*heldout, *regression]
    refs, hyps = [p.reference for p in both], [p.hypothesis for p in both]
    held_refs, held_hyps = [p.reference for p in heldout], [p.hypothesis for p in heldout]
    biased = biased_errors(held_refs, held_hyps, terms)
    alarms, term_free = false_alarm_clips(refs, hyps, terms)
    return Candidate(
        version=version,
        regression_wer=wer([p.reference for p in regression], [p.hypothesis for p in regression]),
        regression_clips=len(regression),
        heldout_wer=wer(held_refs, held_hyps),
        heldout_clips=len(heldout),
        terms=term_stats(refs, hyps, terms),
        heldout_b_wer=biased.b_wer if sum(biased.b_words) else None,
        heldout_u_wer=biased.u_wer if heldout else None,
        false_alarm_clips=alarms,
        term_free_clips=term_free,
    )


def measure(
    recognizer: Recognizer, info: ModelInfo, version: str, sets: EvidenceSets
) -> Measurement:
    """One model's numbers on the gate's evidence (each clip transcribed once)."""
    batch = sets.batch_seconds
    regression, _ = transcribe_utterances(
        recognizer,
        sets.regression,
        batch,
        f"v{version} regression set",
        sets.cache,
        sets.executor,
    )
    held, _ = transcribe_utterances(
        recognizer, sets.heldout, batch, f"v{version} held-out drops", sets.cache, sets.executor
    )
    measured = candidate(version, regression, held, sets.terms)
    return Measurement(measured, regression, held, recognizer, info)


@dataclass(frozen=True)
class ModelCheckSetup:
    """What the model checks need beyond the gate's own measurements."""

    settings: ModelChecksSettings  # checks.model
    test_rows: Sequence[Utterance]


def evaluate_challenger(
    challenger_version: str,
    registry: Registry,
    decoding: DecodingSetup,
    sets: EvidenceSets,
    rules: GateSettings,
    checks: ModelCheckSetup,
) -> GateDecision:
    """Measure the challenger, champion and baseline once, run the model checks, decide."""
    champion_version = registry.alias_version(registry.settings.champion_alias)
    baseline_version = registry.alias_version(BASELINE_ALIAS) or champion_version
    measured: dict[str, Measurement] = {}

    def measurement(version: str) -> Measurement:
        if version not in measured:
            recognizer, info = load_recognizer(f"registry:{version}", decoding, registry)
            measured[version] = measure(recognizer, info, version, sets)
        return measured[version]

    challenger = measurement(challenger_version)
    champion = measurement(champion_version).candidate if champion_version else None
    baseline = measurement(baseline_version).candidate if baseline_version else None
    passed, report = True, {}
    if rules.require_model_checks and champion is not None:
        comparison = RegressionComparison(
            challenger.candidate.regression_clips,
            challenger.candidate.regression_wer,
            champion.version,
            champion.regression_wer,
        )
        heldout = score(challenger.heldout, sets.terms) if challenger.heldout else None
        checked = check_model(
            challenger.recognizer,
            challenger.info,
            checks.settings,
            checks.test_rows,
            Evidence(comparison if sets.regression else None, heldout),
            rules.max_regression_wer_delta,
            sets.batch_seconds,
            measured[champion.version].recognizer,
        )
        passed, report = checked.passed, checked.to_dict()
    paired = paired_evidence(challenger, measured, champion_version, baseline_version, sets, rules)
    verdict = decide(
        challenger.candidate,
        champion,
        baseline,
        sets.terms,
        rules,
        passed,
        sets.new_terms,
        *paired[:3],
    )
    return GateDecision(
        verdict.promote,
        verdict.reason,
        challenger.candidate,
        champion,
        baseline,
        verdict.clauses,
        report,
        slices=paired[2],
        power=paired[3],
        term_status=verdict.term_status,
    )


def paired_evidence(
    challenger: Measurement,
    measured: dict[str, Measurement],
    champion_version: str | None,
    baseline_version: str | None,
    sets: EvidenceSets,
    rules: GateSettings,
):
    """The challenger against the champion and the baseline, clip by clip: the comparisons,
    the champion's slices and what the regression set can decide."""
    if champion_version is None:
        return None, None, (), None
    champion = measured[champion_version]
    versus = compare(
        champion_version, challenger.predictions, champion.predictions, sets.terms, rules
    )
    baseline = versus
    if baseline_version and baseline_version != champion_version:
        other = measured[baseline_version].predictions
        baseline = compare(baseline_version, challenger.predictions, other, sets.terms, rules)
    slices = slice_comparisons(challenger.regression, champion.regression, rules)
    return (
        versus,
        baseline,
        slices,
        power_statement(challenger.regression, champion.regression, rules),
    )


DIGEST_TAG = "gate_record_digest"


def decision_digest(decision: GateDecision) -> str:
    """A digest of what the decision says (its state aside)."""
    content = {k: v for k, v in decision.to_dict().items() if k != "state"}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def apply(decision: GateDecision, registry: Registry, record: Path) -> GateDecision:
    """Tag the digest, record, then move aliases, then mark the record applied (see module
    docstring)."""
    version = decision.challenger.version
    registry.tag_version(version, DIGEST_TAG, decision_digest(decision))
    decision.write(record)
    fault_point("gate.after_record")
    registry.tag_version(version, "gate", "promoted" if decision.promote else "rejected")
    registry.tag_version(version, "gate_reason", decision.reason[:500])
    registry.set_alias(version, CHALLENGER_ALIAS)
    if decision.promote:
        if decision.champion is None and registry.alias_version(BASELINE_ALIAS) is None:
            registry.set_alias(version, BASELINE_ALIAS)
        fault_point("gate.before_alias")
        registry.set_alias(version, registry.settings.champion_alias)
        fault_point("gate.after_alias")
    applied = replace(decision, state="applied")
    applied.write(record)
    return applied


def crown_first_decision(version: str) -> GateDecision:
    """The first model becomes champion and baseline without a comparison (still recorded)."""
    unmeasured = Candidate(version, 0.0, 0, 0.0, 0, {})
    return GateDecision(True, "first model: champion by default", unmeasured, None, None)


def gate_version(
    version: str,
    registry: Registry,
    record: Path,
    evaluate,
) -> GateDecision:
    """Decide on ``version`` once: a recorded decision whose digest the registry confirms is
    completed (or, applied, returned), not taken again."""
    existing = GateDecision.load_if_exists(record)
    if existing is not None and existing.challenger.version == version:
        tagged = registry.version_tags(version).get(DIGEST_TAG)
        if tagged == decision_digest(existing):
            if existing.state == "applied":
                return existing
            console.print(f"gate: completing the recorded decision for v{version}")
            return apply(existing, registry, record)
        console.print(
            f"[yellow]gate: {record} does not match the digest the gate tagged on v{version}: "
            "measuring again instead of obeying it[/]"
        )
    fault_point("gate.before_record")
    return apply(evaluate(), registry, record)


def log_decision(decision: GateDecision, champion_before: str | None, out: Path, mlflow) -> None:
    version = decision.challenger.version
    mlflow.set_tags(
        {
            "challenger_version": version,
            "promoted": decision.promote,
            "champion_version": champion_before or "none",
        }
    )
    challenger = decision.challenger
    metrics = {
        "challenger_regression_wer": challenger.regression_wer,
        "challenger_heldout_wer": challenger.heldout_wer,
    }
    if challenger.heldout_b_wer is not None:
        metrics["challenger_heldout_b_wer"] = challenger.heldout_b_wer
    if challenger.heldout_u_wer is not None:
        metrics["challenger_heldout_u_wer"] = challenger.heldout_u_wer
    if challenger.term_free_clips:
        rate = challenger.false_alarm_clips / challenger.term_free_clips
        metrics["challenger_false_alarm_rate"] = rate
    for term, scores in decision.challenger.terms.items():
        metrics[f"challenger_recall_{term}"] = scores.recall
        metrics[f"challenger_precision_{term}"] = scores.precision
    for clause in decision.clauses:
        if clause.interval is not None:
            for bound in ("estimate", "low", "high"):
                key = f"gate_{clause.name}_{bound}"
                metrics[metric_name(key)] = getattr(clause.interval, bound)
    if decision.power is not None:
        metrics["gate_regression_clips_needed"] = float(decision.power.clips_needed)
    mlflow.log_metrics({metric_name(k): v for k, v in metrics.items()})
    mlflow.log_artifact(str(out), "gate")
