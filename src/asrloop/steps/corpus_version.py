"""``asrloop corpus version``: commit the current data state as the next ``corpus-vN``."""

from __future__ import annotations

from asrloop.corpus.versioning import commit_version, track_shards, untracked_shards
from asrloop.progress import console
from asrloop.steps.context import StepContext, step


@step("corpus version")
def run(ctx: StepContext) -> None:
    layout = ctx.layout
    track_shards(layout.root, untracked_shards(layout.grown_corpus))
    console.print(commit_version(layout, "corpus: manual version", push=ctx.settings.loop.push))
