"""CPU data parallelism: 1 process x 2 threads against 2 processes x 1 thread (torchrun, gloo).

    .venv/bin/python benchmarks/ddp_cpu.py [--minutes 1.5] [--root /tmp/asrloop-ddp] [overrides]

Synthesizes a 600-clip corpus under --root (once), then trains the default model for --minutes
twice on the same global batch (the DDP processes take half the per-process budget each) and
prints audio-seconds per second for both, with the load average (other processes competing for
the cores make two-thread runs collapse: measure on an idle machine).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from speed import ensure_corpus, training_speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/tmp/asrloop-ddp"))
    parser.add_argument("--minutes", type=float, default=1.5, help="training budget per run")
    parser.add_argument("--frames", type=int, default=8000, help="global batch, in frames")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    root = args.root.resolve()
    ensure_corpus(root, args.overrides)
    cpu = ["trainer.device=cpu", *args.overrides]
    one = training_speed(
        root,
        "1x2",
        args.minutes,
        ["trainer.threads=2", f"train.max_batch_frames={args.frames}", *cpu],
    )
    two = training_speed(
        root,
        "2x1",
        args.minutes,
        ["trainer.threads=1", f"train.max_batch_frames={args.frames // 2}", *cpu],
        processes=2,
    )
    cores, load = os.cpu_count(), os.getloadavg()[0]
    print(f"\nCPU training speed, default model, {args.minutes:g} min per run, {cores} cores")
    print(f"(load average {load:.1f} at the end: above {cores} the cores were shared)")
    print(f"  1 process  x 2 threads {one:>8.0f} audio-s/s")
    print(f"  2 processes x 1 thread {two:>8.0f} audio-s/s (DDP, gloo)  x{two / one:.2f}")


if __name__ == "__main__":
    main()
