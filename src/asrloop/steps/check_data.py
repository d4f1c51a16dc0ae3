"""``asrloop check data``: test the corpus (``paths.corpus``) like code; print, write
``reports/checks/data.json``, log to MLflow, and fail on errors (they block training)."""

from __future__ import annotations

from asrloop.checks.balance import balance_table
from asrloop.checks.corpus import CorpusRules
from asrloop.checks.data import check_corpus
from asrloop.checks.report import CheckReport
from asrloop.progress import console
from asrloop.steps.context import StepContext, step


@step("check data")
def run(ctx: StepContext) -> CheckReport:
    settings = ctx.settings
    rules = CorpusRules.of(
        settings.checks.data, settings.features.sample_rate, settings.corpus, ctx.terms()
    )
    report = check_corpus(ctx.layout.corpus, rules)
    console.print(balance_table(report.summary))
    report.print(console)
    path = report.write(ctx.layout.checks_report("data"))
    with ctx.mlflow_run() as mlflow:
        report.log_mlflow(mlflow)
    report.raise_if_failed(path, "data checks", "errors block training and growth")
    return report
