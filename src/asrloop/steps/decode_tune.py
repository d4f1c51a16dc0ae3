"""``asrloop decode tune``: pick the LM weight and word score that decode dev best."""

from __future__ import annotations

from asrloop.corpus.manifest import iter_corpus
from asrloop.decode_tune import log_tuning, print_best, tune
from asrloop.records import DecodeTuning
from asrloop.steps.context import step
from asrloop.steps.inference import InferenceContext


@step("decode tune", context=InferenceContext)
def run(ctx: InferenceContext) -> DecodeTuning:
    recognizer, info = ctx.recognizer(ctx.settings.evaluate.model)
    rows = list(iter_corpus(ctx.layout.base_corpus, ["dev"]))
    best, grid = tune(recognizer, rows, ctx.settings.decode, ctx.layout.vocab)
    tuning = DecodeTuning(best, tuple(grid), info)
    out = tuning.write(ctx.layout.decode_tuning())
    with ctx.mlflow_run() as mlflow:
        log_tuning(mlflow, tuning, out)
    print_best(best, out)
    return tuning
