"""``asrloop drop build``: the pipeline's ``drop`` stage, ``drop synth`` or ``drop import`` as
``scenario.drop.source`` says; the loop serves the drop folder the same way either way."""

from __future__ import annotations

from asrloop.steps import drop_import, drop_synth
from asrloop.steps.context import StepContext, step
from asrloop.steps.corpus_build import chosen


@step("drop build")
def run(ctx: StepContext):
    steps = {"synth": drop_synth.run, "import": drop_import.run}
    return chosen(ctx.settings.scenario.drop.source, "scenario.drop.source", steps)(ctx)
