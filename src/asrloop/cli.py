"""The ``asrloop`` console script: one subcommand per step, each a Hydra app.

    asrloop corpus synth corpus.splits.train=200     # Hydra overrides follow the command
    asrloop train -m train.lr=1e-3,2e-3               # multirun sweeps work as usual
    asrloop train --params pipelines/params.yaml      # DVC stages: read the resolved snapshot

Entry points stay thin: each command names a ``run(cfg)`` function in its module.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, str] = {
    "corpus synth": "asrloop.corpus.build:run",
    "corpus version": "asrloop.corpus.versioning:run",
    "corpus restore": "asrloop.corpus.versioning:restore_cli",
    "drop synth": "asrloop.corpus.drop:run",
    "data validate": "asrloop.corpus.validate:run",
    "vocab build": "asrloop.text.vocabulary:run",
    "train": "asrloop.train:run",
    "evaluate": "asrloop.evaluate:run",
    "decode tune": "asrloop.decode_tune:run",
    "transcribe": "asrloop.serve.transcribe:run",
    "monitor": "asrloop.loop.monitor:run",
    "triage": "asrloop.loop.triage:run",
    "grow": "asrloop.loop.grow:run",
    "gate": "asrloop.loop.gate:run",
    "check data": "asrloop.checks.data:run",
    "check model": "asrloop.checks.model:run",
    "bench peer": "asrloop.peer:run",
    "params": "asrloop.pipeline:write_params_cli",
    "loop": "asrloop.loop.runner:run",
}


def _usage() -> str:
    lines = ["usage: asrloop COMMAND [--params FILE] [HYDRA OVERRIDES...]", "", "commands:"]
    lines += [f"  {name:<16} {target.split(':')[0]}" for name, target in COMMANDS.items()]
    return "\n".join(lines)


def split_command(argv: list[str]) -> tuple[str, list[str]]:
    for words in (2, 1):
        name = " ".join(argv[:words])
        if name in COMMANDS:
            return name, argv[words:]
    raise SystemExit(_usage())


def load_target(name: str):
    module, _, function = COMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(_usage())
        return
    name, rest = split_command(argv)
    function = load_target(name)
    if "--params" in rest:
        from asrloop.config import load_params

        at = rest.index("--params")
        path, overrides = rest[at + 1], rest[:at] + rest[at + 2 :]
        result = function(load_params(path, overrides))
    else:
        result = run_hydra(function, name, rest)
    if isinstance(result, str):  # a step reports a failure as a message
        raise SystemExit(f"asrloop {name}: {result}")


def run_hydra(function, name: str, overrides: list[str]):
    import hydra

    from asrloop.config import CONF_DIR

    job = name.replace(" ", "_")

    results = []

    @hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="config")
    def app(cfg):
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        if HydraConfig.get().mode == RunMode.MULTIRUN:
            from asrloop.tracking import ensure_sweep_parent

            ensure_sweep_parent(cfg, job)
        results.append(function(cfg))
        return results[-1]  # sweepers (Optuna) read the objective from here

    sys.argv = [f"asrloop-{job}", f"hydra.job.name={job}", *overrides]
    app()
    return next((r for r in results if isinstance(r, str)), None)
