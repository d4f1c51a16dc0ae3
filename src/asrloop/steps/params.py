"""``asrloop params [overrides]``: write the resolved config (``pipelines/params.yaml``) that
every pipeline stage reads back with ``--params``."""

from __future__ import annotations

from asrloop.pipeline import write_params
from asrloop.steps.context import StepContext, step


@step("params")
def run(ctx: StepContext) -> None:
    print(write_params(ctx.cfg))
