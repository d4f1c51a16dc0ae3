"""``asrloop corpus synth``: synthesize the base corpus into shards under ``paths.base_corpus``."""

from __future__ import annotations

from asrloop.config import save_config
from asrloop.corpus.synth_corpus import build_corpus
from asrloop.steps.context import StepContext, step


@step("corpus synth")
def run(ctx: StepContext) -> None:
    settings = ctx.settings
    build_corpus(settings.corpus, settings.scenario.terms, ctx.layout.base_corpus)
    save_config(ctx.cfg, ctx.layout.corpus_config())
