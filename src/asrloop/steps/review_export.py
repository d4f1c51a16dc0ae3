"""``asrloop review export --format label-studio [--output FILE]``: a drop's queue rows as Label
Studio tasks, with the labeling config beside them."""

from __future__ import annotations

from pathlib import Path

from asrloop.progress import console
from asrloop.review.label_studio import ExportSettings, task_count, write_tasks
from asrloop.review.server import ReviewPaths, review_store
from asrloop.steps.context import StepContext, step


@step("review export")
def run(ctx: StepContext) -> tuple[Path, Path]:
    review = ctx.settings.review
    drop = review.drop
    settings = ExportSettings.of(review.export)
    store = review_store(ReviewPaths.of(drop, ctx.layout), ctx.settings.corpus.alphabet)
    tasks, config = write_tasks(store.items(), settings, f"asrloop:{drop}")
    console.print(f"{task_count(tasks)} Label Studio tasks: {tasks}\nlabeling config: {config}")
    return tasks, config
