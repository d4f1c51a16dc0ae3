"""``asrloop team down``: stop the team stack and remove its state (moto's objects go too)."""

from __future__ import annotations

from asrloop.progress import console
from asrloop.steps.context import StepContext, step
from asrloop.team import TeamStack


@step("team down")
def run(ctx: StepContext) -> None:
    stack = TeamStack.of(ctx.settings.team, ctx.layout.root)
    stack.down()
    console.print(f"team stack down ({stack.dir} removed)")
