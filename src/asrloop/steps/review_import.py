"""``asrloop review import FILE``: the decisions of a Label Studio JSON export into the drop's
review queue (all or none; rows changed since the export are refused)."""

from __future__ import annotations

from asrloop.errors import ConfigError
from asrloop.loop.review_queue import ReviewItem
from asrloop.progress import console
from asrloop.review.label_studio import decision_counts, import_decisions, read_export
from asrloop.review.server import ReviewPaths, review_store
from asrloop.steps.context import StepContext, step


@step("review import")
def run(ctx: StepContext) -> list[ReviewItem]:
    review = ctx.settings.review
    export = getattr(review, "import").file  # `import` is a Python keyword
    if not export:
        raise ConfigError("review import: name the Label Studio export: asrloop review import FILE")
    annotated = read_export(export)
    store = review_store(ReviewPaths.of(review.drop, ctx.layout), ctx.settings.corpus.alphabet)
    saved = import_decisions(store, annotated)
    console.print(f"imported {len(saved)} decisions into {review.drop}: {decision_counts(saved)}")
    return saved
