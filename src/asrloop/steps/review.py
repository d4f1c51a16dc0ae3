"""``asrloop review``: serve the review page of a drop's queue until interrupted (Ctrl+C)."""

from __future__ import annotations

from asrloop.progress import console
from asrloop.review.server import ReviewPaths, build_app, page_settings
from asrloop.steps.context import StepContext, step


@step("review")
def run(ctx: StepContext) -> None:
    import uvicorn

    review = ctx.settings.review
    paths = ReviewPaths.of(review.drop, ctx.layout)
    app = build_app(page_settings(review, paths.spikes), paths, ctx.settings.corpus.alphabet)
    url = f"http://{review.host}:{review.port}/"
    console.print(f"review page for [bold]{review.drop}[/]: {url}  (queue {paths.queue})")
    uvicorn.run(app, host=review.host, port=review.port, log_level="warning")
