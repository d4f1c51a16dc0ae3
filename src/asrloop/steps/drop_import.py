"""``asrloop drop import``: a folder of your own production audio becomes the current drop."""

from __future__ import annotations

from pathlib import Path

from asrloop.corpus.drop_import import DropImportSettings, import_drop
from asrloop.steps.context import StepContext, step


@step("drop import")
def run(ctx: StepContext) -> Path:
    settings = DropImportSettings.of(ctx.settings.scenario.drop, ctx.settings.corpus)
    return import_drop(ctx.drop, settings, ctx.layout)
