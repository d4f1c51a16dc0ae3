"""What every step repeats, once: the layout, tracking, the registry, decoding, the step's
MLflow run, timing, the step log and the project lock.

A step is a function of a :class:`StepContext`; :func:`step` turns it into the ``run(cfg)`` the
CLI calls (in the spirit of the lightning-hydra-template's ``task_wrapper``)::

    @step("evaluate")
    def run(ctx: StepContext) -> EvaluationReport:
        recognizer, info = ctx.recognizer(ctx.cfg.evaluate.model)
        ...

Steps are the only code that holds the root config (``ctx.cfg``); they hand the library typed
settings, paths from ``ctx.layout`` and services from the context, never the config itself.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig

from asrloop.artifacts import Layout, ModelOutput
from asrloop.settings import Settings, typed

T = TypeVar("T")
STEP_LOG_ENV = "ASRLOOP_STEP_LOG"  # the loop asks each stage to record its wall time here


@dataclass
class StepContext:
    """One step's view of the project: built from the root config, services made on demand."""

    cfg: DictConfig
    name: str
    started: float = field(default_factory=time.perf_counter)

    @cached_property
    def settings(self) -> Settings:
        """The root config as typed dataclasses (``asrloop.settings``): what steps hand down."""
        return typed(self.cfg)

    @cached_property
    def layout(self) -> Layout:
        return Layout.from_paths(self.cfg.paths)

    @cached_property
    def tracking(self):
        from asrloop.tracking import TrackingSettings

        return TrackingSettings.resolve(self.settings.tracking, self.settings.paths.root)

    @cached_property
    def registry(self):
        from asrloop.model.registry import Registry

        return Registry(self.tracking)

    @cached_property
    def executor(self):
        """Where the step's batch work runs (``conf/executor``: here, or on Ray)."""
        from asrloop.execution import executor_for

        return executor_for(self.settings.executor)

    @property
    def model_output(self) -> ModelOutput:
        """The training output folder (``train.output_dir``)."""
        return ModelOutput(Path(self.cfg.train.output_dir))

    @property
    def drop(self):
        """The scenario's current drop."""
        from asrloop.corpus.drop import Drop

        return Drop.of(self.settings.scenario.drop, self.layout)

    def drops_so_far(self) -> list:
        from asrloop.config import drops_so_far

        return drops_so_far(self.cfg)

    def terms(self) -> list[str]:
        return [str(t) for t in self.cfg.scenario.terms]

    @contextmanager
    def mlflow_run(self, name: str | None = None) -> Iterator[Any]:
        """The step's MLflow run (lineage tags, key params, the masked config); yields mlflow.
        Tagged ``step=<command with underscores>`` (``check_data``), as the UI filters on it."""
        from asrloop import tracking
        from asrloop.config import config_snapshot

        tag = self.name.replace(" ", "_")
        with tracking.step_run(self.tracking, tag, config_snapshot(self.cfg), name):
            yield tracking.setup(self.tracking)

    def record_time(self) -> None:
        """Append this step's wall time to the loop's step log (when the loop asked for it)."""
        log = os.environ.get(STEP_LOG_ENV)
        if log:
            seconds = round(time.perf_counter() - self.started, 2)
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"command": self.name, "seconds": seconds}) + "\n")


def step(
    name: str, *, lock: bool = False, context: type[StepContext] = StepContext
) -> Callable[[Callable[[Any], T]], Callable[[DictConfig], T]]:
    """Make ``function(ctx)`` the ``run(cfg)`` of command ``name``: the context built (of class
    ``context``), the project lock held when ``lock`` (the loop, which changes versioned data),
    the step's wall time logged."""

    def wrap(function: Callable[[Any], T]) -> Callable[[DictConfig], T]:
        @functools.wraps(function)
        def run(cfg: DictConfig) -> T:
            ctx = context(cfg, name)
            guard = nullcontext()
            if lock:
                from asrloop.lock import project_lock

                guard = project_lock(ctx.layout.root, name)
            with guard:
                result = function(ctx)
            ctx.record_time()
            return result

        run.command = name  # type: ignore[attr-defined]
        return run

    return wrap
