"""``asrloop evaluate``: score a model on the corpus splits and the held-out drop audio."""

from __future__ import annotations

from asrloop.config import CONF_DIR
from asrloop.corpus.manifest import iter_corpus
from asrloop.corpus.real_speech import real_speech_rows
from asrloop.evaluate import (
    HELD_OUT_SET,
    REAL_SPEECH_SET,
    dvc_metrics,
    evaluate_set,
    log_results,
    print_results,
    scored_model_id,
)
from asrloop.faults import fault_point
from asrloop.jsonio import write_json
from asrloop.model.lineage import log_corpus_input
from asrloop.records import EvaluationReport
from asrloop.steps.context import step
from asrloop.steps.inference import InferenceContext


@step("evaluate", context=InferenceContext)
def run(ctx: InferenceContext) -> EvaluationReport:
    settings = ctx.settings.evaluate
    recognizer, info = ctx.recognizer(settings.model)
    layout, out_dir = ctx.layout, ctx.layout.eval_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    terms, batch = ctx.terms(), float(settings.batch_seconds)
    cache = ctx.prediction_cache()
    sets = {split: list(iter_corpus(layout.base_corpus, [split])) for split in settings.splits}
    sets = {split: rows for split, rows in sets.items() if rows}  # e.g. no test_neural
    roots = (layout.root, CONF_DIR.parent)  # the project, then the source tree's assets/
    real = real_speech_rows(
        settings.real_speech, ctx.settings.corpus, roots, layout.real_speech_cache()
    )
    if real:
        sets[REAL_SPEECH_SET] = real
    held_out = [clip for drop in ctx.drops_so_far() for clip in drop.clips("holdout")]
    if held_out:
        sets[HELD_OUT_SET] = held_out
    results = {
        name: evaluate_set(
            recognizer, name, rows, terms, batch, layout.predictions(name), cache, ctx.executor
        )
        for name, rows in sets.items()
    }
    report = EvaluationReport(info, results)
    fault_point("evaluate.before_metrics")
    report.write(layout.eval_report())
    write_json(layout.eval_metrics(), dvc_metrics(results))
    print_results(results)
    model_id = scored_model_id(ctx.registry, info, ctx.model_output.result, str(settings.model))
    with ctx.mlflow_run() as mlflow:
        corpus = log_corpus_input(mlflow, layout.root, layout.corpus, "evaluation")
        tags = {"model_version": info.model_version, "vocab_version": info.vocab_version}
        mlflow.set_tags({k: v for k, v in tags.items() if v})
        log_results(mlflow, results, model_id, corpus)
        mlflow.log_artifacts(str(out_dir), "eval")
    return report
