"""``asrloop check labels``: the champion, decoding greedily, flags training labels it misses."""

from __future__ import annotations

from asrloop.checks.labels_model import (
    champion_version,
    check_labels,
    rows_to_check,
)
from asrloop.checks.report import CheckReport
from asrloop.inference.loading import GREEDY
from asrloop.progress import console
from asrloop.steps.context import step
from asrloop.steps.inference import InferenceContext


@step("check labels", context=InferenceContext)
def run(ctx: InferenceContext) -> CheckReport:
    settings = ctx.settings.checks.labels
    champion = champion_version(ctx.registry, ctx.tracking.champion_alias)
    recognizer, _ = ctx.recognizer(f"registry:{champion}", decode=GREEDY)
    report = check_labels(
        recognizer,
        rows_to_check(ctx.layout.corpus, int(settings.max_clips)),
        float(settings.max_cer),
        float(settings.max_share),
        float(ctx.settings.evaluate.batch_seconds),
        f"v{champion}",
    )
    report.print(console)
    path = report.write(ctx.layout.checks_report("labels"))
    with ctx.mlflow_run() as mlflow:
        report.log_mlflow(mlflow)
    report.raise_if_failed(path, "label check")
    return report
