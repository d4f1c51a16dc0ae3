"""``conf/executor``: where batch work runs: this process, or a Ray cluster's actors."""

from __future__ import annotations

from dataclasses import dataclass

EXECUTORS = ("local", "ray")
CHOICES = {"executor.kind": EXECUTORS}


@dataclass
class ExecutorSettings:
    """Corpus import, training's feature computation, drop transcription, evaluation and the
    gate's measurements run their batches here.

    ``local``: in this process, one batch after another. ``ray``: as a Ray Data pipeline, each
    batch on one of ``actors`` actors that load the model once (``cpus_per_actor`` threads each,
    ``gpus_per_actor`` GPUs). Same rows, same batches, same hypotheses either way."""

    kind: str = "local"
    # a running cluster ("127.0.0.1:6379", "ray://host:10001", "auto"); None: RAY_ADDRESS when
    # set, else a Ray started inside this process for the run and stopped with it
    address: str | None = None
    actors: int = 2
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    # the actors read audio by path: on a cluster of several machines, the project (or its
    # drops) must be on a filesystem they share
