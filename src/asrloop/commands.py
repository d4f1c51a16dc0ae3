"""The ``asrloop`` commands and where each one's step lives (no imports: every layer may read it).

A command's ``run(cfg)`` is in ``asrloop.steps.<command with underscores>``: ``corpus synth`` is
``asrloop/steps/corpus_synth.py``. The CLI dispatches through this table and the pipeline derives
each stage's code dependencies from it (``asrloop.stages``).
"""

from __future__ import annotations

COMMAND_NAMES: tuple[str, ...] = (
    "corpus synth",
    "corpus import",
    "corpus build",
    "corpus version",
    "corpus pack",
    "corpus restore",
    "drop synth",
    "drop import",
    "drop build",
    "vocab build",
    "train",
    "evaluate",
    "decode tune",
    "transcribe",
    "monitor",
    "triage",
    "grow",
    "gate",
    "model export",
    "check data",
    "check model",
    "check labels",
    "bench peer",
    "params",
    "pipeline",
    "loop",
    "review",
    "review export",
    "review import",
    "team up",
    "team down",
    "scenario new",
)


def step_module(name: str) -> str:
    """The module that holds a command's ``run(cfg)``: ``corpus synth`` -> steps/corpus_synth.py."""
    return "asrloop.steps." + name.replace(" ", "_")
