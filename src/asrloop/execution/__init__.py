"""Where batch work runs (``conf/executor``): this process, or a Ray cluster's actors.

A step plans its work as a list of items (a batch of clips each) and hands the executor one
picklable function of an item; the executor returns the results in item order. The local
executor calls it here; the Ray executor (:mod:`asrloop.execution.ray_data`) sends it once to
each actor of a Ray Data ``map_batches`` pool, where it is unpickled (loading its model) once
and applied to the items it is given. One function per step, two places to run it.
"""

from __future__ import annotations

from asrloop.execution.base import Executor, Size, one
from asrloop.execution.local import LOCAL, LocalExecutor
from asrloop.settings.executor import ExecutorSettings

__all__ = ["LOCAL", "Executor", "LocalExecutor", "Size", "executor_for", "one"]


def executor_for(settings: ExecutorSettings) -> Executor:
    """The executor ``settings.kind`` names (``ray`` needs the ``scale`` extra)."""
    if settings.kind == "ray":
        from asrloop.execution.ray_data import RayExecutor

        return RayExecutor(settings)
    return LOCAL
