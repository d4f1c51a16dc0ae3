"""The DVC pipeline's stages, declared once: ``pipelines/dvc.yaml`` is generated from here.

Each stage runs one ``asrloop`` command on the resolved params snapshot. Its data ``deps`` and
``outs`` are :class:`~asrloop.artifacts.Layout` paths, and its code ``deps`` are derived from the
real imports of the command's step module (:mod:`asrloop.imports`), so a stage reruns when any
code it runs changes and ``dvc.yaml`` cannot drift from the code. ``asrloop pipeline`` rewrites the
file; ``tests/unit/test_architecture.py`` holds the committed file to this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asrloop.artifacts import Layout
from asrloop.imports import code_dependencies

DROP = "${scenario.drop.name}"  # DVC's templating from params.yaml: the current drop


@dataclass(frozen=True)
class Out:
    path: Path
    persist: bool = False  # kept while the stage runs (resumable work, a person's decisions)
    cache: bool = True  # False: not in the DVC cache (reports; a model folder the registry holds)
    note: str = ""
    kind: str = "outs"  # outs, metrics or plots
    plot: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stage:
    name: str
    command: str  # the asrloop command the stage runs
    params: Sequence[str]
    deps: Sequence[Path]
    outs: Sequence[Out]
    note: str = ""  # a comment above the stage


def declared_stages(layout: Layout, model_dir: Path) -> list[Stage]:
    """The loop's stages in order. ``model_dir`` is the training output (``train.output_dir``)."""
    reports = Out(layout.eval_dir(), cache=False)
    return [
        Stage(
            "corpus",
            "corpus build",
            ["seed", "corpus", "scenario.terms"],
            [],
            [Out(layout.base_corpus, persist=True, note="finished shards survive a rerun")],
            "synth or import, as corpus.source says",
        ),
        Stage(
            "drop",
            "drop build",
            ["corpus", "scenario"],
            [],
            [Out(layout.drop_dir(DROP)), Out(layout.drop_references(DROP))],
            "synth or import, as scenario.drop.source says",
        ),
        Stage(
            "check_data",
            "check data",
            [
                "checks.data",
                "corpus.alphabet",
                "corpus.language",
                "corpus.source",
                "corpus.voices",
                "scenario.terms",
            ],
            [layout.corpus],
            [Out(layout.checks_report("data"), cache=False)],
        ),
        Stage(
            "vocab",
            "vocab build",
            ["vocab"],
            [layout.corpus, layout.checks_report("data")],
            [Out(layout.vocab)],
        ),
        Stage(
            "train",
            "train",
            ["seed", "model", "features", "train", "corpus.alphabet"],
            [layout.corpus, layout.vocab, layout.checks_report("data")],
            [
                Out(model_dir, persist=True, cache=False, note="an interrupted training resumes"),
                Out(
                    layout.dev_curve(),
                    cache=False,
                    kind="plots",
                    plot={"x": "step", "y": "dev_cer", "title": "dev CER during training"},
                ),
            ],
        ),
        Stage(
            "evaluate",
            "evaluate",
            ["decode", "evaluate", "features", "scenario.terms"],
            [model_dir, layout.vocab, layout.drop_dir(DROP), layout.drop_references(DROP)],
            [reports, Out(layout.eval_metrics(), cache=False, kind="metrics")],
        ),
        Stage(
            "gate",
            "gate",
            ["gate", "checks.model", "decode", "evaluate.batch_seconds", "scenario"],
            [model_dir, layout.base_corpus, layout.drop_dir(DROP), layout.drop_references(DROP)],
            [Out(layout.gate_dir(), persist=True, cache=False, note="one record per version")],
            "the trained version against the champion; only this stage moves the alias",
        ),
        Stage(
            "transcribe",
            "transcribe",
            ["decode", "transcribe"],
            [layout.serving_record(DROP), layout.drop_dir(DROP)],
            [Out(layout.transcripts_dir(DROP), cache=False)],
            "the version that served this drop: its serving record",
        ),
        Stage(
            "monitor",
            "monitor",
            ["triage.monitor"],
            [layout.transcripts_dir(DROP), layout.base_corpus],
            [Out(layout.monitor_dir(DROP), cache=False)],
            "spikes against the training text when the drop was served: only the base corpus is "
            "declared, so growth from this drop does not re-rank a drop already handled",
        ),
        Stage(
            "triage",
            "triage",
            ["triage"],
            [
                layout.transcripts_dir(DROP),
                layout.monitor_dir(DROP),
                layout.drop_references(DROP),
            ],
            [
                Out(layout.triage_dir(DROP), cache=False),
                Out(
                    layout.review_queue(DROP),
                    persist=True,
                    cache=False,
                    note="a person's decisions (versioned in git)",
                ),
            ],
        ),
    ]


def stage_of_command(stages: Sequence[Stage]) -> dict[str, str]:
    """``{command: stage}``: which stage a command's step log entry belongs to."""
    return {stage.command: stage.name for stage in stages}


HEADER = """\
# GENERATED by `asrloop pipeline` from src/asrloop/stages.py: edit that module, not this file.
#
# The loop's stages. `dvc repro` reruns only what changed: after `asrloop grow` adds a shard
# under data/corpus/grown, the vocabulary, the model and the gate rerun with no code or config
# edit. One source of truth: params.yaml here is the resolved Hydra config, written by
# `asrloop params [overrides]` (the loop does it); every stage reads it with --params, so
# `dvc exp run -S train.optimizer.lr=1e-3` reaches the step as well. Paths are relative to the
# project (./data/...), so dvc.lock and `dvc status` are the same in every clone.
#
# Code deps are the files the stage's step module imports (asrloop.imports), data deps and outs
# are asrloop.artifacts paths. Metrics and plots (reports/metrics/, committed with each version):
#   dvc metrics show / dvc metrics diff corpus-v2 HEAD   WER/CER per set and voice, term recall
#   dvc plots diff corpus-v2 HEAD                         the dev CER curve of training
"""


def _out_lines(out: Out, at: str) -> list[str]:
    options = []
    if out.persist:
        options.append("persist: true")
    if not out.cache:
        options.append("cache: false")
    options += [f"{k}: {v}" for k, v in out.plot.items()]
    if not options:
        return [f"      - {at}" + (f"   # {out.note}" if out.note else "")]
    lines = [f"      - {at}:" + (f"   # {out.note}" if out.note else "")]
    return lines + [f"          {option}" for option in options]


def render(stages: Sequence[Stage], root: Path, source: Path) -> str:
    """``dvc.yaml`` text; paths relative to ``pipelines/`` under ``root``."""

    def at(path: Path) -> str:
        return "../" + Path(path).relative_to(root).as_posix()

    lines = [HEADER.rstrip("\n"), "stages:"]
    for stage in stages:
        if stage.note:
            lines.append(f"  # {stage.note}")
        lines.append(f"  {stage.name}:")
        lines.append(f"    cmd: asrloop {stage.command} --params params.yaml")
        code = code_dependencies(stage.command, source)
        lines.append("    deps:")
        lines += [f"      - {at(p)}" for p in [*stage.deps, *code]]
        lines.append(f"    params: [{', '.join(stage.params)}]")
        for kind in ("outs", "metrics", "plots"):
            outs = [out for out in stage.outs if out.kind == kind]
            if outs:
                lines.append(f"    {kind}:")
                for out in outs:
                    lines += _out_lines(out, at(out.path))
    return "\n".join(lines) + "\n"
