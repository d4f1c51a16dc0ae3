"""``asrloop gate``: decide whether the newly trained version becomes the champion.

The first model is crowned without a comparison; every later one is measured against the
champion and the baseline (``asrloop.loop.gate``). A recorded decision is completed, not retaken.
"""

from __future__ import annotations

from asrloop.corpus.manifest import iter_corpus
from asrloop.corpus.plan import terms_so_far
from asrloop.loop.gate import (
    EvidenceSets,
    ModelCheckSetup,
    crown_first_decision,
    evaluate_challenger,
    gate_version,
    log_decision,
)
from asrloop.progress import console
from asrloop.records import GateDecision, TrainingResult
from asrloop.steps.context import step
from asrloop.steps.inference import InferenceContext


def evidence(ctx: InferenceContext) -> EvidenceSets:
    """The regression set, the held-out part of every drop so far, and the terms that count."""
    drops = ctx.drops_so_far()
    scenario = ctx.settings.scenario
    terms = terms_so_far(scenario, len(drops))
    earlier = terms_so_far(scenario, len(drops) - 1)
    return EvidenceSets(
        list(iter_corpus(ctx.layout.base_corpus, ["regression"])),
        [clip for drop in drops for clip in drop.clips("holdout")],
        terms,
        [t for t in terms if t not in earlier],
        float(ctx.settings.evaluate.batch_seconds),
        ctx.prediction_cache(),
        ctx.executor,
    )


@step("gate", context=InferenceContext)
def run(ctx: InferenceContext) -> GateDecision | None:
    registry = ctx.registry
    version = str(TrainingResult.load(ctx.model_output.result).model_version)
    out = ctx.layout.gate_record(version)
    champion_before = registry.alias_version(ctx.tracking.champion_alias)
    if champion_before == version and not out.exists():
        console.print(f"gate: v{version} is already the champion")
        return None

    def evaluate() -> GateDecision:
        if champion_before is None:
            return crown_first_decision(version)
        test_rows = list(iter_corpus(ctx.layout.base_corpus, ["test"]))
        return evaluate_challenger(
            version,
            registry,
            ctx.decoding(),
            evidence(ctx),
            ctx.settings.gate,
            ModelCheckSetup(ctx.settings.checks.model, test_rows),
        )

    decision = gate_version(version, registry, out, evaluate)
    with ctx.mlflow_run() as mlflow:
        log_decision(decision, champion_before, out, mlflow)
    verdict = "[green]promoted" if decision.promote else "[red]rejected"
    console.print(f"gate: v{version} {verdict}[/]: {decision.reason}")
    for clause in decision.failed:
        console.print(f"  [red]✗[/] {clause.name}: {clause.detail}")
    return decision
