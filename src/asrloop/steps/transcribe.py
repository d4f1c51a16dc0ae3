"""``asrloop transcribe``: the champion (pinned once per drop) transcribes the drop's audio."""

from __future__ import annotations

from pathlib import Path

from asrloop.inference.transcribe import model_ref, pin_serving_model, serving_model, transcribe
from asrloop.steps.context import step
from asrloop.steps.inference import InferenceContext


@step("transcribe", context=InferenceContext)
def run(ctx: InferenceContext) -> Path:
    settings = ctx.settings
    tc = settings.transcribe
    record, model = ctx.layout.serving_record(str(settings.scenario.drop.name)), str(tc.model)
    if not Path(model).exists():  # a registered model: record which version serves this drop
        model = pin_serving_model(record, ctx.registry, model).version
    ref = model_ref(serving_model(record, model))
    recognizer, info = ctx.recognizer(ref, second_path=bool(tc.second_path))
    batch = float(settings.evaluate.batch_seconds)
    return transcribe(
        recognizer, info, Path(tc.input), Path(tc.output), batch, ctx.layout.root, ctx.executor
    )
