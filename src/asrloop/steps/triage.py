"""``asrloop triage``: select review clips -> the drop's review queue -> (demo) fill it from the
references -> the error analysis of the approved rows."""

from __future__ import annotations

from asrloop.inference.transcript import read_transcripts
from asrloop.loop.monitor import training_texts
from asrloop.loop.review_queue import queue_paths
from asrloop.loop.triage import (
    analyze_queue,
    log_triage,
    print_summary,
    review_phrases,
    triage_drop,
    vocabulary_of,
)
from asrloop.steps.context import StepContext, step


@step("triage")
def run(ctx: StepContext) -> None:
    drop, layout = ctx.drop, ctx.layout
    settings = ctx.settings.triage
    transcripts = read_transcripts(ctx.settings.transcribe.output)
    train_texts = training_texts(layout.corpus)
    phrases = review_phrases(
        layout.spikes(drop.name), transcripts, train_texts, settings.monitor, settings.top_phrases
    )
    queue = layout.review_queue(drop.name)
    triage_drop(transcripts, phrases, drop, settings, queue)
    with ctx.mlflow_run() as mlflow:
        result, files = analyze_queue(
            queue,
            layout.triage_dir(drop.name),
            vocabulary_of(train_texts),
            settings,
            f"Triage: {drop.name}",
            ctx.terms(),
            layout.root,
        )
        log_triage(mlflow, result, [*files, *queue_paths(queue)])
    print_summary(result)
