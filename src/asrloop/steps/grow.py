"""``asrloop grow``: approved review corrections become a new corpus shard and data version."""

from __future__ import annotations

from collections.abc import Callable

from asrloop.checks.corpus import CorpusRules
from asrloop.corpus.manifest import Utterance
from asrloop.inference.loading import GREEDY, REGISTRY_PREFIX
from asrloop.inference.transcript import read_transcripts
from asrloop.loop.grow import GrowJob, GrowResult, commit_grown, grow_corpus, label_suspects
from asrloop.loop.pseudo_labels import pseudo_labels
from asrloop.loop.review_queue import read_queue
from asrloop.progress import console
from asrloop.steps.context import step
from asrloop.steps.inference import InferenceContext


def label_check(ctx: InferenceContext) -> Callable[[list[Utterance]], list] | None:
    """The label check with the champion, decoding greedily (None when it is off, or before
    there is a champion)."""
    settings = ctx.settings
    if not settings.grow.label_check:
        return None
    champion = ctx.registry.alias_version(ctx.tracking.champion_alias)
    if champion is None:
        return None
    labels = settings.checks.labels
    return label_suspects(
        lambda: ctx.recognizer(f"{REGISTRY_PREFIX}{champion}", GREEDY)[0],
        labels.max_cer,
        labels.max_share,
        float(settings.evaluate.batch_seconds),
    )


def pseudo_rows(ctx: InferenceContext) -> list:
    """The drop's pseudo-labelled rows (none unless ``grow.pseudo_label.enabled``)."""
    settings = ctx.settings.grow.pseudo_label
    if not settings.enabled:
        return []
    transcripts = read_transcripts(ctx.settings.transcribe.output)
    queue_folder = ctx.layout.review_queue(ctx.drop.name)
    queued = {item.id for item in read_queue(queue_folder)} if queue_folder.exists() else set()
    return pseudo_labels(transcripts, queued, ctx.drop, settings)


@step("grow", context=InferenceContext)
def run(ctx: InferenceContext) -> GrowResult:
    settings, layout, drop = ctx.settings, ctx.layout, ctx.drop
    rules = CorpusRules.of(
        settings.checks.data, settings.features.sample_rate, settings.corpus, ctx.terms()
    )
    job = GrowJob(
        drop,
        layout.review_queue(drop.name),
        layout.corpus,
        layout.base_corpus,
        layout.grown_corpus,
        layout.vocab,
        rules,
        settings.grow.synthesize,
        label_check(ctx),
        ctx.terms(),
        float(settings.grow.validation_share),
        pseudo_rows(ctx),
        settings.grow.contrast,
    )
    result, shards = grow_corpus(job)
    if shards and settings.loop.commit:
        result = commit_grown(layout, result, shards, settings.loop.push)
    console.print(result)
    return result
