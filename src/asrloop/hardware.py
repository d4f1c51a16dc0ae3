"""Where the math runs and in which number format: ``conf/trainer`` resolved for this machine.

Detected, never assumed: ``device: auto`` takes CUDA, then MPS, then the CPU;
``precision: auto`` takes bf16 where the device does it fast (CUDA with bf16 support; a CPU
with AVX-512 BF16 or AMX, read from ``/proc/cpuinfo``) and fp32 elsewhere; ``threads: auto``
uses every core the process may run on that other processes do not keep busy, shared out among
the processes of one machine under DDP, where each process also takes its own GPU
(``cuda:<local rank>``).
"""

from __future__ import annotations

import os
import time
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


BUSY_SHARE = 0.6  # a core other processes keep busy this much counts as taken


def usable_cpus() -> set[int]:
    """The CPUs this process may run on (its affinity), not the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def _cpu_ticks(cpus: set[int]) -> tuple[int, int]:
    """(busy, total) clock ticks of ``cpus`` since boot, from ``/proc/stat``."""
    busy = total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        ticks = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
        total += sum(ticks)
        busy += sum(ticks) - ticks[3] - ticks[4]
    return busy, total


def _own_ticks() -> int:
    """Clock ticks this process (all its threads) has run, from ``/proc/self/stat``."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


@cache
def cores_busy_elsewhere(seconds: float = 0.3) -> float:
    """How many of this process's cores other processes keep busy, measured over ``seconds``
    (``/proc/stat`` per CPU, less this process's own time); 0.0 where ``/proc`` is missing.
    Measured once per process."""
    cpus = usable_cpus()
    try:
        busy, total = _cpu_ticks(cpus)
        own = _own_ticks()
        time.sleep(seconds)
        busy_after, total_after = _cpu_ticks(cpus)
        own_after = _own_ticks()
    except (OSError, ValueError, IndexError):
        return 0.0
    per_core = (total_after - total) / max(len(cpus), 1)
    if per_core <= 0:
        return 0.0
    others = (busy_after - busy) - (own_after - own)
    return round(max(0.0, others / per_core), 2)


def pick_threads(setting: int | str, processes: int = 1) -> int:
    """Threads for one of ``processes`` processes sharing this machine. ``auto`` takes every
    usable core, less those other processes keep busy (a core counts from 0.6 of it busy): a
    thread on a core another process holds makes every parallel step wait for it (on 2 cores
    with one busy, 1 thread trained 2.2x faster than 2; README, Speed). Under DDP the cores are
    shared out among the processes as they are (they start together and would count each
    other)."""
    if setting == "auto":
        cores = len(usable_cpus())
        if processes > 1:
            return max(1, cores // processes)
        taken = int(cores_busy_elsewhere() + (1 - BUSY_SHARE))
        return max(1, cores - taken)
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
    busy_elsewhere: float = 0.0  # cores other processes kept busy when threads were picked

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
        threads = pick_threads(trainer.threads, local_processes)
        auto = str(trainer.threads) == "auto" and local_processes == 1
        return cls(device, precision, threads, cores_busy_elsewhere() if auto else 0.0)

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
        said = f"{self.device.type}, {self.precision}, {self.threads} threads"
        if self.busy_elsewhere >= BUSY_SHARE:
            said += f" ({self.busy_elsewhere:.1f} cores busy with other processes)"
        return said
