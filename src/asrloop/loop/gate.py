"""``asrloop gate``: promote the challenger only when it is safely better than the champion.

Both models are scored with the vocabulary each shipped with, on the frozen regression set and
the held-out part of the drop. The challenger must raise every emerging term's recall, must not
worsen regression WER by more than ``gate.max_regression_wer_delta``, and must pass the model
checks. Promotion moves the alias; a rejected challenger stays registered, tagged with why.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from omegaconf import DictConfig

from asrloop import tracking
from asrloop.corpus.drop import drop_rows
from asrloop.corpus.manifest import iter_corpus
from asrloop.evaluate import load_recognizer, score, transcribe_rows
from asrloop.model.registry import alias_version, set_alias, tag_version
from asrloop.progress import console


@dataclass
class Candidate:
    version: str
    regression_wer: float
    term_recall: dict[str, float]
    heldout_wer: float


@dataclass
class Decision:
    promote: bool
    reason: str
    challenger: Candidate
    champion: Candidate | None


def measure(cfg: DictConfig, version: str) -> Candidate:
    recognizer, _ = load_recognizer(cfg, f"registry:{version}")
    terms = list(cfg.scenario.terms)
    batch = cfg.evaluate.batch_seconds
    regression, _ = transcribe_rows(
        recognizer,
        list(iter_corpus(cfg.paths.base_corpus, ["regression"])),
        batch,
        f"v{version} regression set",
    )
    held, _ = transcribe_rows(
        recognizer, drop_rows(cfg, "holdout"), batch, f"v{version} held-out drop"
    )
    held_score = score(held, terms)
    return Candidate(
        version,
        score(regression, terms)["wer"],
        {t: s["recall"] for t, s in held_score["terms"].items() if s["support"]},
        held_score["wer"],
    )


def decide(
    challenger: Candidate, champion: Candidate | None, gate: DictConfig, checks_passed: bool = True
) -> Decision:
    """The promotion rule, as a pure function of the two candidates' numbers."""
    if champion is None:
        return Decision(True, "first model: nothing to compare against", challenger, None)
    if challenger.version == champion.version:
        return Decision(False, "challenger is already the champion", challenger, champion)
    reasons = []
    for term, recall in challenger.term_recall.items():
        before = champion.term_recall.get(term, 0.0)
        if recall < before:
            reasons.append(f"recall of '{term}' fell ({before:.2f} -> {recall:.2f})")
        elif before < 1.0 and recall - before <= float(gate.min_term_recall_gain):
            reasons.append(f"recall of '{term}' did not improve ({before:.2f} -> {recall:.2f})")
    delta = challenger.regression_wer - champion.regression_wer
    if delta > float(gate.max_regression_wer_delta):
        reasons.append(
            f"regression WER worsened by {delta:+.4f} "
            f"(limit {float(gate.max_regression_wer_delta):+.4f})"
        )
    if not checks_passed:
        reasons.append("model checks failed")
    if reasons:
        return Decision(False, "; ".join(reasons), challenger, champion)
    gains = ", ".join(
        f"{t} {champion.term_recall.get(t, 0):.2f}->{r:.2f}"
        for t, r in challenger.term_recall.items()
    )
    return Decision(
        True, f"better on new terms ({gains}), regression WER {delta:+.4f}", challenger, champion
    )


def run_model_checks(cfg: DictConfig, version: str, champion: str | None) -> tuple[bool, dict]:
    if not cfg.gate.require_model_checks:
        return True, {}
    from asrloop.checks.model import check_model

    report = check_model(cfg, f"registry:{version}", f"registry:{champion}" if champion else None)
    return not report.errors, json.loads(report.to_json())


def gate(cfg: DictConfig, challenger_version: str) -> Decision:
    alias = cfg.tracking.champion_alias
    champion_version = alias_version(cfg, alias)
    challenger = measure(cfg, challenger_version)
    champion = (
        measure(cfg, champion_version)
        if champion_version and champion_version != challenger_version
        else None
    )
    if champion_version == challenger_version:
        champion = challenger
    passed, checks = run_model_checks(cfg, challenger_version, champion_version)
    decision = decide(challenger, champion, cfg.gate, passed)
    if decision.promote:
        set_alias(cfg, challenger_version, alias)
    tag_version(cfg, challenger_version, "gate", "promoted" if decision.promote else "rejected")
    tag_version(cfg, challenger_version, "gate_reason", decision.reason[:500])
    out = Path(cfg.paths.reports) / "gate" / f"v{challenger_version}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**asdict(decision), "model_checks": checks}, indent=1) + "\n")
    with tracking.step_run(cfg, "gate") as _:
        mlflow = tracking.setup(cfg)
        mlflow.set_tags(
            {
                "challenger_version": challenger_version,
                "promoted": decision.promote,
                "champion_version": champion_version or "none",
            }
        )
        mlflow.log_metrics(
            {
                "challenger_regression_wer": challenger.regression_wer,
                **{f"challenger_recall_{t}": r for t, r in challenger.term_recall.items()},
            }
        )
        mlflow.log_artifact(str(out), "gate")
    verdict = "[green]promoted" if decision.promote else "[red]rejected"
    console.print(f"gate: v{challenger_version} {verdict}[/]: {decision.reason}")
    return decision


def run(cfg: DictConfig) -> None:
    result = json.loads((Path(cfg.train.output_dir) / "result.json").read_text())
    gate(cfg, str(result["model_version"]))
