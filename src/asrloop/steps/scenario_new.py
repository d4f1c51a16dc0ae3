"""``asrloop scenario new NAME --terms "a,b c" [--near-miss "x"]``: a starting scenario file."""

from __future__ import annotations

from pathlib import Path

from asrloop import config
from asrloop.artifacts import scenario_file
from asrloop.corpus.scenario_file import parse_words, starter_scenario, write_starter
from asrloop.progress import console
from asrloop.steps.context import StepContext, step


@step("scenario new")
def run(ctx: StepContext) -> Path:
    scaffold = ctx.settings.scaffold
    terms = parse_words(scaffold.terms, "terms")
    text = starter_scenario(
        str(scaffold.name or ""), terms, parse_words(scaffold.near_miss, "near_miss")
    )
    default = scenario_file(config.CONF_DIR, str(scaffold.name))
    path = write_starter(
        Path(scaffold.output) if scaffold.output else default, text, scaffold.overwrite
    )
    if path.parent == default.parent:
        config.compose([f"scenario={path.stem}"])  # the file validates against the schema
    console.print(f'wrote {path}: run it with `make loop ARGS="scenario={path.stem}"`')
    return path
