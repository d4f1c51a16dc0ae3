"""``asrloop corpus restore +version=corpus-v1``: restore a data version by name."""

from __future__ import annotations

from asrloop.corpus.versioning import restore_version
from asrloop.errors import ConfigError
from asrloop.progress import console
from asrloop.steps.context import StepContext, step


@step("corpus restore")
def run(ctx: StepContext) -> None:
    tag = ctx.settings.version
    if not tag:
        raise ConfigError("name the version: asrloop corpus restore +version=corpus-v1")
    restore_version(ctx.layout, tag)
    console.print(
        f"restored {tag} (git checkout main && asrloop corpus restore +version=... to move again)"
    )
