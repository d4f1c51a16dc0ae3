"""The ``asrloop`` console script: one subcommand per step, each a Hydra app.

    asrloop corpus synth corpus.splits.train=200     # Hydra overrides follow the command
    asrloop train -m train.optimizer.lr=1e-3,2e-3     # multirun sweeps work as usual
    asrloop train --params pipelines/params.yaml      # DVC stages: read the resolved snapshot

Entry points stay thin: each command is a ``run(cfg)`` in its own module of ``asrloop.steps``
(the only code that receives the whole config; see ``asrloop.steps.context``). Failures are
:class:`asrloop.errors.AsrloopError`s; this module turns them into
``asrloop <command>: <message>`` on stderr and their exit code (1 for a failed step or bad
data, 2 for a bad command line or config).
"""

from __future__ import annotations

import importlib
import sys

from asrloop.commands import COMMAND_NAMES, step_module

COMMANDS: dict[str, str] = {name: f"{step_module(name)}:run" for name in COMMAND_NAMES}
# Words a command takes besides overrides: (config key of a positional word, {--option: key}).
ARGUMENTS: dict[str, tuple[str | None, dict[str, str]]] = {
    "review export": (
        None,
        {"--format": "review.export.format", "--output": "review.export.output"},
    ),
    "review import": ("review.import.file", {}),
    "scenario new": (
        "scaffold.name",
        {
            "--terms": "scaffold.terms",
            "--near-miss": "scaffold.near_miss",
            "--output": "scaffold.output",
        },
    ),
}
USAGE_EXIT = 2


class UsageError(Exception):
    pass


def _usage() -> str:
    lines = ["usage: asrloop COMMAND [--params FILE] [HYDRA OVERRIDES...]", "", "commands:"]
    lines += [f"  {name:<16} {step_module(name)}" for name in COMMAND_NAMES]
    return "\n".join(lines)


def split_command(argv: list[str]) -> tuple[str, list[str]]:
    for words in (2, 1):
        name = " ".join(argv[:words])
        if name in COMMANDS:
            return name, argv[words:]
    raise UsageError(f"unknown command {' '.join(argv[:2])!r}\n\n{_usage()}")


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def as_overrides(name: str, rest: list[str]) -> list[str]:
    """The command's own words (``ARGUMENTS``) as Hydra overrides; other words unchanged."""
    positional, options = ARGUMENTS.get(name, (None, {}))
    out, words = [], list(rest)
    while words:
        word = words.pop(0)
        option, equals, inline = word.partition("=")
        if word == "--params":
            out += [word, *words[:1]]
            words = words[1:]
        elif option in options:
            if not equals and not words:
                raise UsageError(f"{option} needs a value")
            out.append(f"{options[option]}={_quoted(inline if equals else words.pop(0))}")
        elif positional and not equals and not word.startswith(("-", "+", "~")):
            out.append(f"{positional}={_quoted(word)}")
            positional = None
        else:
            out.append(word)
    return out


def load_target(name: str):
    module, _, function = COMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(_usage())
        return
    try:
        name, rest = split_command(argv)
        rest = as_overrides(name, rest)
    except UsageError as error:
        print(f"asrloop: {error}", file=sys.stderr)
        sys.exit(USAGE_EXIT)
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, MissingMandatoryValue

    from asrloop.errors import AsrloopError

    try:
        dispatch(name, rest)
    except AsrloopError as error:
        print(f"asrloop {name}: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except (ConfigAttributeError, ConfigKeyError, MissingMandatoryValue) as error:
        where = " (is pipelines/params.yaml stale? `asrloop params` rewrites it)"
        print(
            f"asrloop {name}: config: {error}{where if '--params' in rest else ''}", file=sys.stderr
        )
        sys.exit(USAGE_EXIT)


def dispatch(name: str, rest: list[str]):
    function = load_target(name)
    if "--params" in rest:
        from asrloop.config import load_params

        at = rest.index("--params")
        path, overrides = rest[at + 1], rest[:at] + rest[at + 2 :]
        return function(load_params(path, overrides))
    return run_hydra(function, name, rest)


def run_hydra(function, name: str, overrides: list[str]):
    """Run ``function`` as a Hydra app; a project error inside is re-raised outside Hydra (which
    would otherwise print it as a crash)."""
    import hydra

    from asrloop.config import CONF_DIR
    from asrloop.errors import AsrloopError

    job = name.replace(" ", "_")
    results, errors = [], []

    @hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="config")
    def app(cfg):
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        if HydraConfig.get().mode == RunMode.MULTIRUN:
            from asrloop.tracking import TrackingSettings, ensure_sweep_parent, unvalidated_tracking

            tracking = unvalidated_tracking(cfg.tracking)
            ensure_sweep_parent(TrackingSettings.resolve(tracking, cfg.paths.root), job)
        try:
            from asrloop.config import COMPOSED, validated

            results.append(function(validated(cfg, COMPOSED)))
        except AsrloopError as error:
            errors.append(error)
            return None
        return results[-1]  # sweepers (Optuna) read the objective from here

    # Hydra's argparse takes overrides as one run of positionals: the multirun flag goes first
    multirun = [a for a in overrides if a in ("-m", "--multirun")]
    rest = [a for a in overrides if a not in multirun]
    sys.argv = [f"asrloop-{job}", *multirun, f"hydra.job.name={job}", *rest]
    app()
    if errors:
        raise errors[0]
    return results[-1] if results else None
