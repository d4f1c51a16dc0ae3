"""Where the math runs and in which number format: ``conf/trainer`` resolved for this machine.

Detected, never assumed: ``device: auto`` takes CUDA, then MPS, then the CPU;
``precision: auto`` takes bf16 where the device does it fast (CUDA with bf16 support; a CPU
with AVX-512 BF16 or AMX, read from ``/proc/cpuinfo``) and fp32 elsewhere; ``threads: auto``
uses every core the process may run on, shared out among the processes of one machine under
DDP, where each process also takes its own GPU (``cuda:<local rank>``).
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

from asrloop.errors import ConfigError
from asrloop.settings.trainer import TrainerSettings

PRECISIONS = ("fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@cache
def cpu_flags() -> frozenset[str]:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return frozenset()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_fast_bf16() -> bool:
    return any(flag in cpu_flags() for flag in BF16_CPU_FLAGS)


def pick_device(setting: str) -> torch.device:
    if setting != "auto":
        return torch.device(setting)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_precision(setting: str, device: torch.device) -> str:
    if setting != "auto":
        if setting not in PRECISIONS:
            raise ConfigError(f"trainer.precision: {setting!r} is not one of auto, {PRECISIONS}")
        return setting
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return "fp32"


def pick_threads(setting: int | str, processes: int = 1) -> int:
    """Threads for one of ``processes`` processes sharing this machine."""
    if setting == "auto":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return max(1, cores // processes)
    return int(setting)


def autocast(device: torch.device, precision: str) -> AbstractContextManager:
    """``torch.autocast`` for ``precision`` on ``device``; a no-op in fp32."""
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device.type, dtype=DTYPES[precision])


@dataclass(frozen=True)
class Hardware:
    """The resolved ``trainer`` settings: device, number format, threads."""

    device: torch.device
    precision: str
    threads: int

    @classmethod
    def resolve(
        cls, trainer: TrainerSettings, local_rank: int = 0, local_processes: int = 1
    ) -> Hardware:
        """``trainer`` on this machine for ``local_rank`` of ``local_processes`` here (DDP): its
        own GPU, its share of the cores."""
        device = pick_device(str(trainer.device))
        if device.type == "cuda" and device.index is None and local_processes > 1:
            device = torch.device("cuda", local_rank)
        precision = pick_precision(str(trainer.precision), device)
        return cls(device, precision, pick_threads(trainer.threads, local_processes))

    def apply(self) -> Hardware:
        """Set torch's thread count (and the current GPU) for this process; returns self."""
        torch.set_num_threads(self.threads)
        if self.device.type == "cuda" and self.device.index is not None:
            torch.cuda.set_device(self.device)
        return self

    def autocast(self) -> AbstractContextManager:
        """Mixed precision for forward passes (a no-op in fp32)."""
        return autocast(self.device, self.precision)

    def describe(self) -> str:
        return f"{self.device.type}, {self.precision}, {self.threads} threads"
