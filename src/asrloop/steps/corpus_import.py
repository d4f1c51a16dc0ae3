"""``asrloop corpus import``: a corpus in a known format becomes shards under
``paths.base_corpus``, with ``import_report.json`` saying what was taken and what was not."""

from __future__ import annotations

from asrloop.config import save_config
from asrloop.corpus.importer.importing import ImportReport, ImportSettings, import_corpus
from asrloop.steps.context import StepContext, step


@step("corpus import")
def run(ctx: StepContext) -> ImportReport:
    report = import_corpus(
        ImportSettings.of(ctx.settings.corpus), ctx.layout.base_corpus, ctx.executor
    )
    save_config(ctx.cfg, ctx.layout.corpus_config())
    return report
