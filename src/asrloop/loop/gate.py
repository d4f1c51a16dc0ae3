"""``asrloop gate``: promote the challenger only when it is safely better than the champion.

Both models are scored once, with the vocabulary each shipped with, on the frozen regression set
and the held-out part of the drop; the model checks reuse those numbers. The challenger must
raise every emerging term's recall, must not worsen regression WER by more than
``gate.max_regression_wer_delta``, and must pass the model checks. Promotion moves the alias; a
rejected challenger stays registered, tagged with why. The decision is
``reports/gate/v<N>.json`` (:class:`asrloop.records.GateDecision`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from asrloop import tracking
from asrloop.checks.model import Evidence, RegressionComparison, check_model
from asrloop.config import config_snapshot
from asrloop.corpus.drop import Drop
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.model.registry import Registry
from asrloop.progress import console
from asrloop.records import Candidate, GateDecision, SetScores, TrainingResult
from asrloop.scoring import score
from asrloop.serve.batch import transcribe_utterances
from asrloop.serve.loading import DecodingSetup, load_recognizer
from asrloop.serve.recognizer import Recognizer


@dataclass(frozen=True)
class GateRules:
    """``conf/gate``: what "safely better" means."""

    min_term_recall_gain: float
    max_regression_wer_delta: float
    require_model_checks: bool

    @classmethod
    def from_config(cls, gate_cfg: DictConfig) -> GateRules:
        return cls(
            float(gate_cfg.min_term_recall_gain),
            float(gate_cfg.max_regression_wer_delta),
            bool(gate_cfg.require_model_checks),
        )


@dataclass(frozen=True)
class EvidenceSets:
    """The audio both models are measured on, and the terms that count."""

    regression: list[Utterance]
    heldout: list[Utterance]
    terms: list[str]
    batch_seconds: float


@dataclass(frozen=True)
class Measurement:
    candidate: Candidate
    heldout: SetScores
    recognizer: Recognizer


def measure(recognizer: Recognizer, version: str, sets: EvidenceSets) -> Measurement:
    """One model's numbers on the gate's evidence (transcribed once)."""
    regression, _ = transcribe_utterances(
        recognizer, sets.regression, sets.batch_seconds, f"v{version} regression set"
    )
    held, _ = transcribe_utterances(
        recognizer, sets.heldout, sets.batch_seconds, f"v{version} held-out drop"
    )
    held_scores = score(held, sets.terms)
    candidate = Candidate(
        version,
        score(regression, sets.terms).wer,
        held_scores.term_recall(),
        held_scores.wer,
    )
    return Measurement(candidate, held_scores, recognizer)


def decide(
    challenger: Candidate,
    champion: Candidate | None,
    rules: GateRules,
    checks_passed: bool = True,
) -> tuple[bool, str]:
    """The promotion rule, as a pure function of the two candidates' numbers."""
    if champion is None:
        return True, "first model: nothing to compare against"
    if challenger.version == champion.version:
        return False, "challenger is already the champion"
    reasons = []
    for term, recall in challenger.term_recall.items():
        before = champion.term_recall.get(term, 0.0)
        if recall < before:
            reasons.append(f"recall of '{term}' fell ({before:.2f} -> {recall:.2f})")
        elif before < 1.0 and recall - before <= rules.min_term_recall_gain:
            reasons.append(f"recall of '{term}' did not improve ({before:.2f} -> {recall:.2f})")
    delta = challenger.regression_wer - champion.regression_wer
    if delta > rules.max_regression_wer_delta:
        reasons.append(
            f"regression WER worsened by {delta:+.4f} (limit {rules.max_regression_wer_delta:+.4f})"
        )
    if not checks_passed:
        reasons.append("model checks failed")
    if reasons:
        return False, "; ".join(reasons)
    gains = ", ".join(
        f"{t} {champion.term_recall.get(t, 0):.2f}->{r:.2f}"
        for t, r in challenger.term_recall.items()
    )
    return True, f"better on new terms ({gains}), regression WER {delta:+.4f}"


@dataclass(frozen=True)
class ModelCheckSetup:
    """What the model checks need beyond the gate's own measurements."""

    settings: DictConfig  # checks.model
    test_rows: Sequence[Utterance]


def run_gate(
    challenger_version: str,
    registry: Registry,
    decoding: DecodingSetup,
    sets: EvidenceSets,
    rules: GateRules,
    checks: ModelCheckSetup,
) -> GateDecision:
    """Measure both models once, run the model checks on the challenger, decide."""
    alias = registry.settings.champion_alias
    champion_version = registry.alias_version(alias)
    recognizer, info = load_recognizer(f"registry:{challenger_version}", decoding, registry)
    challenger = measure(recognizer, challenger_version, sets)
    champion = None
    if champion_version == challenger_version:
        champion = challenger
    elif champion_version:
        champion_recognizer, _ = load_recognizer(f"registry:{champion_version}", decoding, registry)
        champion = measure(champion_recognizer, champion_version, sets)
    passed, report = True, {}
    if rules.require_model_checks:
        comparison = RegressionComparison(
            len(sets.regression),
            challenger.candidate.regression_wer,
            champion_version,
            champion.candidate.regression_wer if champion else None,
        )
        checked = check_model(
            challenger.recognizer,
            info,
            checks.settings,
            checks.test_rows,
            Evidence(comparison if sets.regression else None, challenger.heldout),
            rules.max_regression_wer_delta,
            sets.batch_seconds,
        )
        passed, report = checked.passed, checked.to_dict()
    promote, reason = decide(
        challenger.candidate, champion.candidate if champion else None, rules, passed
    )
    return GateDecision(
        promote, reason, challenger.candidate, champion.candidate if champion else None, report
    )


def record(decision: GateDecision, registry: Registry, out: Path) -> None:
    """Move the alias (when promoted), tag the version, write the decision file."""
    version = decision.challenger.version
    if decision.promote:
        registry.set_alias(version, registry.settings.champion_alias)
    registry.tag_version(version, "gate", "promoted" if decision.promote else "rejected")
    registry.tag_version(version, "gate_reason", decision.reason[:500])
    decision.write(out)


def run(cfg: DictConfig) -> GateDecision:
    settings = tracking.TrackingSettings.from_config(cfg.tracking, cfg.paths.root)
    registry = Registry(settings)
    version = str(TrainingResult.load(Path(cfg.train.output_dir) / "result.json").model_version)
    sets = EvidenceSets(
        list(iter_corpus(cfg.paths.base_corpus, ["regression"])),
        Drop.from_config(cfg.scenario.drop, cfg.paths).clips("holdout"),
        list(cfg.scenario.terms),
        float(cfg.evaluate.batch_seconds),
    )
    checks = ModelCheckSetup(cfg.checks.model, list(iter_corpus(cfg.paths.base_corpus, ["test"])))
    champion_version = registry.alias_version(settings.champion_alias)
    decision = run_gate(
        version,
        registry,
        DecodingSetup.from_config(cfg.decode, cfg.features, cfg.paths.vocab),
        sets,
        GateRules.from_config(cfg.gate),
        checks,
    )
    out = Path(cfg.paths.reports) / "gate" / f"v{version}.json"
    record(decision, registry, out)
    with tracking.step_run(settings, "gate", config_snapshot(cfg)):
        mlflow = tracking.setup(settings)
        mlflow.set_tags(
            {
                "challenger_version": version,
                "promoted": decision.promote,
                "champion_version": champion_version or "none",
            }
        )
        mlflow.log_metrics(
            {
                "challenger_regression_wer": decision.challenger.regression_wer,
                **{f"challenger_recall_{t}": r for t, r in decision.challenger.term_recall.items()},
            }
        )
        mlflow.log_artifact(str(out), "gate")
    verdict = "[green]promoted" if decision.promote else "[red]rejected"
    console.print(f"gate: v{version} {verdict}[/]: {decision.reason}")
    return decision
