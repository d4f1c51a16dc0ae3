"""The machine a number came from: its record and a calibration measured in the same run.

A speed means little without the machine and the moment it was measured on: two machines of
"the same kind" differ by their CPU flags (AVX-512 BF16, AMX), by the threads a run may use and
by what else is running. :func:`machine_record` reads the CPU model, the usable cores, the flags
that decide the number formats, the torch and oneDNN versions and the load average;
:func:`calibrate` measures, at the run's thread count, fp32 and bf16 matrix-multiply GFLOP/s and
memory bandwidth. A run's speed divided by its calibration compares across machines; the model
FLOPs utilisation (:func:`utilisation`) is that ratio for training.
"""

from __future__ import annotations

import os
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from asrloop.hardware import cores_busy_elsewhere, cpu_flags, usable_cpus

# flags that decide which number formats and kernels are fast
FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "avx512_vnni", "avx_vnni")


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    """Cores this process may run on (its affinity), not the machine's count."""
    return len(usable_cpus())


def onednn_version() -> str:
    found = re.search(r"(?:MKL-DNN|oneDNN) v([\d.]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


def load_average() -> list[float]:
    """The 1-, 5- and 15-minute load averages (empty where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine_record(threads: int | None = None) -> dict[str, Any]:
    """What a speed was measured on (no calibration: see :func:`calibrate`)."""
    flags = cpu_flags()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "threads": threads or torch.get_num_threads(),
        "flags": [flag for flag in FLAGS if flag in flags],
        "torch": torch.__version__,
        "onednn": onednn_version(),
        "gpu": gpu,
        "load_average": load_average(),
        "cores_busy_elsewhere": cores_busy_elsewhere(),  # when first measured in this process
    }


def _rate(work: Callable[[], None], amount: float, seconds: float) -> float:
    """``amount`` units per second of ``work``, the best of repeated timings over ``seconds``
    (the best, not the mean: a shared machine's interruptions only ever slow a run down)."""
    work()  # warm up (kernel choice, allocation)
    best, deadline = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return amount / best


def matmul_gflops(dtype: torch.dtype, size: int = 1024, seconds: float = 0.5) -> float:
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    return _rate(lambda: torch.mm(a, b), 2 * size**3 / 1e9, seconds)


def memory_gbps(megabytes: int = 256, seconds: float = 0.5) -> float:
    """Copy bandwidth: bytes read plus bytes written per second."""
    source = torch.ones(megabytes * 2**20 // 4)
    target = torch.empty_like(source)
    return _rate(lambda: target.copy_(source), 2 * megabytes * 2**20 / 1e9, seconds)


def calibrate(threads: int | None = None, seconds: float = 0.5) -> dict[str, float]:
    """fp32 and bf16 matmul GFLOP/s and memory GB/s at ``threads`` (the run's own count)."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return {
            "fp32_gflops": round(matmul_gflops(torch.float32, seconds=seconds), 1),
            "bf16_gflops": round(matmul_gflops(torch.bfloat16, seconds=seconds), 1),
            "memory_gbps": round(memory_gbps(seconds=seconds), 1),
        }
    finally:
        torch.set_num_threads(before)


def calibrated_record(threads: int | None = None, seconds: float = 0.5) -> dict[str, Any]:
    """The machine record with its calibration, measured now."""
    return {**machine_record(threads), "calibration": calibrate(threads, seconds)}


def utilisation(flops_per_second: float, peak_gflops: float) -> float:
    """Model FLOPs utilisation: the model's useful FLOP/s over the calibrated peak."""
    return flops_per_second / (peak_gflops * 1e9) if peak_gflops > 0 else 0.0


def describe(record: dict[str, Any]) -> str:
    """One line for a report."""
    cal = record.get("calibration", {})
    parts = [
        f"{record['cpu']}, {record['cores']} cores ({record['threads']} threads)",
        "flags " + (" ".join(record["flags"]) or "none of " + " ".join(FLAGS[:5])),
        f"torch {record['torch']}, oneDNN {record['onednn']}",
        "load " + " / ".join(f"{x:.2f}" for x in record["load_average"]),
    ]
    if record.get("cores_busy_elsewhere") is not None:
        parts.append(f"{record['cores_busy_elsewhere']:.1f} cores busy with other processes")
    if record.get("gpu"):
        parts.insert(1, f"GPU {record['gpu']}")
    if cal:
        parts.append(
            f"matmul fp32 {cal['fp32_gflops']:.0f} / bf16 {cal['bf16_gflops']:.0f} GFLOP/s, "
            f"memory {cal['memory_gbps']:.1f} GB/s"
        )
    return "; ".join(parts)
