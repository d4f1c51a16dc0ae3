"""The Ray executor (``executor=ray``): a step's items as a Ray Data pipeline.

``from_items`` (one row per item, pickled) -> ``map_batches`` over an actor pool of
``executor.actors`` actors, each holding the step's function unpickled once (a recognizer is
rebuilt from its recipe, so the model loads once per actor) and limited to
``cpus_per_actor`` threads -> rows streamed back and put in item order. Ray runs on the
cluster at ``executor.address`` (or ``RAY_ADDRESS``), else on one it starts in this process,
listening on 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np

from asrloop.errors import ConfigError
from asrloop.execution.base import Size, one
from asrloop.progress import console, progress_bar
from asrloop.settings.executor import ExecutorSettings

SINGLE_MACHINE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray on loopback, one machine


def _loopback(address: str) -> bool:
    host = address.removeprefix("ray://").rsplit(":", 1)[0]
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.")


class RayExecutor:
    def __init__(self, settings: ExecutorSettings):
        if settings.actors < 1 or settings.cpus_per_actor <= 0:
            raise ConfigError(
                f"executor.actors ({settings.actors}) and executor.cpus_per_actor "
                f"({settings.cpus_per_actor:g}) must be positive"
            )
        self.settings = settings

    def map(self, work, items, description, size: Size = one) -> list[Any]:
        if not items:
            return []
        data = connect(self.settings)
        settings = self.settings
        pickled = [{"index": i, "item": pickle.dumps(item)} for i, item in enumerate(items)]
        dataset = data.from_items(pickled, override_num_blocks=len(pickled)).map_batches(
            _Worker,
            fn_constructor_args=(pickle.dumps(work), settings.cpus_per_actor),
            batch_size=1,
            batch_format="numpy",
            compute=data.ActorPoolStrategy(size=min(settings.actors, len(items))),
            num_cpus=settings.cpus_per_actor,
            num_gpus=settings.gpus_per_actor or None,
        )
        results: list[Any] = [None] * len(items)
        with progress_bar(f"{description} (ray)", sum(size(i) for i in items)) as advance:
            for done in dataset.iter_rows():
                index = int(done["index"])
                results[index] = pickle.loads(done["result"])
                advance(size(items[index]))
        return results


class _Worker:
    """One actor: the step's function, unpickled (and its model loaded) once."""

    def __init__(self, work: bytes, cpus: float):
        import torch

        torch.set_num_threads(max(1, int(cpus)))
        self.work: Callable[[Any], Any] = pickle.loads(work)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [pickle.dumps(self.work(pickle.loads(item))) for item in batch["item"]]
        return {"index": batch["index"], "result": np.array(results, dtype=object)}


def connect(settings: ExecutorSettings):
    """``ray.data``, with Ray connected: to ``settings.address`` or ``RAY_ADDRESS`` when set,
    else to a Ray started here with the CPUs the actors need."""
    address = settings.address or os.environ.get("RAY_ADDRESS")
    if address is None or _loopback(address):
        # Ray's servers then listen on the loopback interface only, and a loopback address is
        # kept as it is (Ray otherwise swaps it for the machine's address, and listens there)
        os.environ.setdefault(SINGLE_MACHINE_ENV, "0")
    try:
        import ray
        import ray.data
        from ray._private import ray_constants
    except ImportError as error:
        raise ConfigError(
            "executor=ray needs Ray: install the scale extra (make setup-scale, or "
            "pip install -e '.[scale]')"
        ) from error
    if os.environ.get(SINGLE_MACHINE_ENV) == "0":
        ray_constants.ENABLE_RAY_CLUSTER = False  # read at import: Ray may be imported already
    if not ray.is_initialized():
        common = dict(logging_level="WARNING", log_to_driver=False, configure_logging=False)
        if address:
            console.print(f"executor: Ray cluster at {address}")
            ray.init(address=address, **common)
        else:
            cpus = settings.actors * settings.cpus_per_actor
            console.print(f"executor: a Ray started here ({cpus:g} CPUs)")
            ray.init(
                num_cpus=max(1, int(np.ceil(cpus))),
                num_gpus=int(np.ceil(settings.actors * settings.gpus_per_actor)),
                include_dashboard=False,
                **common,
            )
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # ours shows the items done
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # not a line per pipeline
    return ray.data
