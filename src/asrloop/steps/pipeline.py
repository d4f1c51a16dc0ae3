"""``asrloop pipeline``: write ``pipelines/dvc.yaml`` from the declared stages."""

from __future__ import annotations

from pathlib import Path

from asrloop.jsonio import atomic_write_text
from asrloop.progress import console
from asrloop.stages import declared_stages, render
from asrloop.steps.context import StepContext, step


@step("pipeline")
def run(ctx: StepContext) -> Path:
    layout = ctx.layout
    source = Path(__file__).resolve().parents[1]
    text = render(declared_stages(layout, ctx.model_output.folder), layout.root, source)
    path = layout.dvc_yaml()
    if not path.exists() or path.read_text() != text:
        atomic_write_text(path, text)
    console.print(f"pipeline: {path}")
    return path
