"""``asrloop corpus build``: the pipeline's ``corpus`` stage, ``corpus synth`` or
``corpus import`` as ``corpus.source`` says; everything downstream reads the same shards."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from asrloop.errors import ConfigError
from asrloop.steps import corpus_import, corpus_synth
from asrloop.steps.context import StepContext, step

SOURCES = ("synth", "import")


def chosen(value: object, key: str, steps: Mapping[str, Callable[..., Any]]) -> Callable:
    """The body of the step ``value`` names (``synth`` or ``import``), to run in the calling
    step's context: one step, one timing, as the pipeline stage it is."""
    if value not in SOURCES:
        raise ConfigError(f"{key}: {value!r} is not one of {SOURCES}")
    return steps[str(value)].__wrapped__


@step("corpus build")
def run(ctx: StepContext):
    steps = {"synth": corpus_synth.run, "import": corpus_import.run}
    return chosen(ctx.settings.corpus.source, "corpus.source", steps)(ctx)
