"""``asrloop model export``: copy a registered version out as a loadable checkpoint folder."""

from __future__ import annotations

from pathlib import Path

from asrloop.model.export import export_version
from asrloop.steps.context import StepContext, step


@step("model export")
def run(ctx: StepContext) -> Path:
    export = ctx.settings.export
    return export_version(ctx.registry, str(export.model), Path(export.output_dir))
