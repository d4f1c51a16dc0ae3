"""Multi-process training (DDP): which process this is, and what the processes share.

Started by ``torchrun`` (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``PORT`` in the
environment), or by SLURM through Hydra's submitit launcher with several tasks per job
(submitit's ``TorchDistributedEnvironment`` exports the same variables). One process is one
rank: it trains on its share of every global batch (:meth:`Distributed.shard`), gradients are
averaged by ``DistributedDataParallel``, metrics are summed or gathered across ranks, and only
rank 0 talks to MLflow, writes checkpoints and registers. gloo on CPUs, NCCL on CUDA.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

WAIT = timedelta(minutes=60)  # the longest one rank waits for the others (rank 0 registers)


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @classmethod
    def from_env(cls) -> Distributed:
        """The process group this process belongs to (a single process when none)."""
        if "WORLD_SIZE" not in os.environ and _submitit_tasks() > 1:
            from submitit.helpers import TorchDistributedEnvironment

            TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world == 1:
            return cls()
        return cls(
            int(os.environ["RANK"]),
            world,
            int(os.environ["LOCAL_RANK"]),
            int(os.environ.get("LOCAL_WORLD_SIZE", world)),
        )

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def start(self, device: torch.device) -> None:
        if self.enabled and not dist.is_initialized():
            backend = "nccl" if device.type == "cuda" else "gloo"
            dist.init_process_group(backend, timeout=WAIT)

    def stop(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    @contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (it fills shared caches), the others after it."""
        if not self.is_main:
            self.barrier()
        yield
        if self.is_main:
            self.barrier()

    def shard(self, items: Sequence[int]) -> list[int]:
        """This rank's share of a global batch (every rank gets one: batches hold at least
        ``world_size`` items)."""
        return list(items[self.rank :: self.world_size])

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sums over ranks."""
        if not self.enabled:
            return list(values)
        tensor = torch.tensor(list(values), dtype=torch.float64)
        if dist.get_backend() == "nccl":
            tensor = tensor.cuda()
        dist.all_reduce(tensor)
        return tensor.cpu().tolist()

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.enabled:
            return [value]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, value)
        return out

    def wrap(self, model, device: torch.device, find_unused: bool):
        """``model`` in DistributedDataParallel (itself in a single process)."""
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused)


def torchrun(command: Sequence[str], processes: int) -> list[str]:
    """``command`` (a program and its arguments) as ``processes`` DDP processes on this machine:
    the ``torchrun`` of this environment, standalone; the command itself for one process."""
    if processes <= 1:
        return list(command)
    launcher = str(Path(sys.executable).parent / "torchrun")
    return [launcher, "--standalone", f"--nproc-per-node={processes}", "--no-python", *command]


def _submitit_tasks() -> int:
    """Tasks of the submitit job this process runs in (0 outside submitit)."""
    if not os.environ.get("SUBMITIT_EXECUTOR"):
        return 0
    from submitit import JobEnvironment

    return JobEnvironment().num_tasks


class NoTracking:
    """What ranks other than 0 log to: every MLflow call is accepted and dropped."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None
