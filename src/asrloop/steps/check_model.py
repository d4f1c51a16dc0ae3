"""``asrloop check model``: behavioural tests of ``checks.model.target`` before promotion."""

from __future__ import annotations

from asrloop.checks.model import (
    Evidence,
    check_model,
    compare_regression,
    heldout_scores,
    log_report,
    record_on_version,
)
from asrloop.checks.report import CheckReport
from asrloop.corpus.manifest import iter_corpus
from asrloop.steps.context import step
from asrloop.steps.inference import InferenceContext


@step("check model", context=InferenceContext)
def run(ctx: InferenceContext) -> CheckReport:
    """Against ``checks.model.champion`` when one is named."""
    settings, layout = ctx.settings.checks.model, ctx.layout
    batch = float(ctx.settings.evaluate.batch_seconds)
    recognizer, info = ctx.recognizer(settings.target)
    regression_rows = list(iter_corpus(layout.base_corpus, ["regression"]))
    champion = ctx.recognizer(settings.champion) if settings.champion else None
    comparison = compare_regression(recognizer, regression_rows, batch, champion)
    heldout = heldout_scores(recognizer, ctx.drop.clips("holdout"), ctx.terms(), batch)
    report = check_model(
        recognizer,
        info,
        settings,
        list(iter_corpus(layout.base_corpus, ["test"])),
        Evidence(comparison, heldout),
        float(ctx.settings.gate.max_regression_wer_delta),
        batch,
        champion[0] if champion else None,
    )
    report.print()
    path = report.write(layout.checks_report("model"))
    with ctx.mlflow_run() as mlflow:
        log_report(mlflow, report)
    record_on_version(ctx.registry, report)
    report.raise_if_failed(path, "model checks", "errors block promotion")
    return report
