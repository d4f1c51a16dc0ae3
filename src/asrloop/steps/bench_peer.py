"""``asrloop bench peer``: pocketsphinx and the project's model side by side on the same audio."""

from __future__ import annotations

from asrloop.corpus.manifest import iter_corpus
from asrloop.peer import compare, print_comparison
from asrloop.records import PeerComparison
from asrloop.steps.context import step
from asrloop.steps.inference import InferenceContext


@step("bench peer", context=InferenceContext)
def run(ctx: InferenceContext) -> PeerComparison:
    settings = ctx.settings
    limit = int(settings.peer.max_clips)
    sets = {
        "test": list(iter_corpus(ctx.layout.base_corpus, ["test"]))[:limit],
        "drop_holdout": ctx.drop.clips("holdout")[:limit],
    }
    recognizer, info = ctx.recognizer(settings.evaluate.model)
    comparison = compare(
        recognizer,
        f"asrloop ({info.model_version or 'local'})",
        sets,
        ctx.terms(),
        dict(settings.scenario.pronunciations),
        float(settings.evaluate.batch_seconds),
    )
    print_comparison(comparison)
    out = comparison.write(ctx.layout.peer_comparison())
    with ctx.mlflow_run() as mlflow:
        mlflow.log_artifact(str(out), "peer")
    return comparison
