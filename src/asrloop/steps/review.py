"""``asrloop review``: serve the review page of a drop's queue until interrupted (Ctrl+C)."""

from __future__ import annotations

from asrloop.progress import console
from asrloop.review.server import ReviewPaths, build_app, page_access, page_settings
from asrloop.steps.context import StepContext, step


@step("review")
def run(ctx: StepContext) -> None:
    import uvicorn

    review = ctx.settings.review
    paths = ReviewPaths.of(review.drop, ctx.layout)
    access = page_access(review)  # refuses a non-loopback host without a token
    settings = page_settings(review, paths.spikes)
    app = build_app(settings, paths, ctx.settings.corpus.alphabet, access)
    url = f"http://{review.host}:{review.port}/"
    console.print(f"review page for [bold]{review.drop}[/]: {url}  (queue {paths.queue})")
    if access.token is not None:
        console.print(
            f"[yellow]served beyond loopback on {review.host}[/]: reviewers open "
            f"{url}?token=<review.token> once; answers only Host names {sorted(access.hosts)}"
        )
    uvicorn.run(app, host=review.host, port=review.port, log_level="warning")
