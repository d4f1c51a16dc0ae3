"""``asrloop monitor``: rank the phrases of a drop's transcripts that spike against the
training text, the spans the model was unsure of, and where the two decoding paths disagree."""

from __future__ import annotations

from asrloop.inference.transcript import read_transcripts
from asrloop.loop.monitor import (
    log_monitor,
    monitor_drop,
    print_table,
    training_texts,
    write_outputs,
)
from asrloop.steps.context import StepContext, step


@step("monitor")
def run(ctx: StepContext) -> None:
    drop, layout = ctx.settings.scenario.drop.name, ctx.layout
    settings = ctx.settings.triage.monitor
    transcripts = read_transcripts(ctx.settings.transcribe.output)
    report, spans = monitor_drop(drop, transcripts, training_texts(layout.corpus), settings)
    files = write_outputs(
        layout.spikes(drop), layout.low_confidence(drop), report, spans, settings.top_k
    )
    with ctx.mlflow_run() as mlflow:
        log_monitor(mlflow, report, spans, transcripts, settings.top_k, files)
    print_table(drop, list(report.spikes), settings.top_k)
