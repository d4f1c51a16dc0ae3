"""``asrloop drop synth``: synthesize the scenario's current production drop (audio without
text; the true text goes to ``paths.references``)."""

from __future__ import annotations

from asrloop.corpus.drop import synthesize_drop
from asrloop.steps.context import StepContext, step


@step("drop synth")
def run(ctx: StepContext) -> None:
    synthesize_drop(ctx.settings.corpus, ctx.settings.scenario, ctx.drop, ctx.layout)
