"""GPU smoke test: training speed of the default model in fp32 and bf16, and DDP on all GPUs.

    .venv/bin/python benchmarks/gpu_smoke.py [--minutes 1] [--root /tmp/asrloop-gpu] [overrides]

On a CUDA machine: synthesizes a 600-clip corpus under --root (once), trains the default model
for --minutes in fp32 and in bf16 (where the GPU has it) on one GPU, and with torchrun DDP on
every visible GPU when there is more than one, then prints audio-seconds per second for each.
Without CUDA it says so and exits 0 (``--cpu`` runs the same measurement on the CPU).
Hydra overrides pass through, e.g. ``train.max_batch_frames=32000`` for larger GPU batches.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from speed import ensure_corpus, training_speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/tmp/asrloop-gpu"))
    parser.add_argument("--minutes", type=float, default=1.0, help="training budget per run")
    parser.add_argument("--cpu", action="store_true", help="without CUDA: measure the CPU")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    import torch

    from asrloop.hardware import cpu_has_fast_bf16

    cuda = torch.cuda.is_available()
    if not cuda and not args.cpu:
        print("no CUDA device visible: nothing to measure (--cpu measures this CPU instead)")
        return
    device = "cuda" if cuda else "cpu"
    if cuda:
        names = {torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())}
        print(
            f"{torch.cuda.device_count()} x {', '.join(sorted(names))}, torch {torch.__version__}"
        )
    fast_bf16 = torch.cuda.is_bf16_supported() if cuda else cpu_has_fast_bf16()
    precisions = ["fp32", "bf16"] if fast_bf16 else ["fp32"]
    root = args.root.resolve()
    ensure_corpus(root, args.overrides)
    results = []
    for precision in precisions:
        settings = [f"trainer.device={device}", f"trainer.precision={precision}"]
        speed = training_speed(
            root, f"{device}-{precision}", args.minutes, [*settings, *args.overrides]
        )
        results.append((f"1 {device}, {precision}", speed))
    gpus = torch.cuda.device_count() if cuda else 0
    if gpus > 1:
        settings = [f"trainer.precision={precisions[-1]}", *args.overrides]
        speed = training_speed(root, f"ddp-{gpus}", args.minutes, settings, processes=gpus)
        results.append((f"{gpus} GPUs DDP, {precisions[-1]}", speed))
    print(f"\ntraining speed, default model, {args.minutes:g} min per run:")
    for label, speed in results:
        print(f"  {label:<24} {speed:>10.0f} audio-s/s")


if __name__ == "__main__":
    main()
