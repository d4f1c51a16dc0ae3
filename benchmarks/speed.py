"""Shared by the speed benchmarks: a corpus to train on, and one timed training run.

:func:`training_speed` trains the configured model for a fixed wall-clock budget (``asrloop
train``, under ``torchrun`` for several processes) and returns the audio-seconds per second it
logged to MLflow (the median of its logging windows; under DDP the global batch's audio).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from asrloop.artifacts import ModelOutput
from asrloop.distributed import torchrun
from asrloop.records import TrainingResult

BIN = Path(sys.executable).parent
CORPUS = [
    "corpus.splits.train=600",
    "corpus.splits.dev=20",
    "corpus.splits.test=10",
    "corpus.splits.regression=10",
    "corpus.shard_size=300",
]


def asrloop(root: Path, args: list[str], processes: int = 1, quiet: bool = True) -> float:
    """Run ``asrloop <args>`` in ``root`` (``torchrun`` with ``processes`` > 1); wall seconds."""
    command = torchrun([str(BIN / "asrloop"), *args], processes)
    env = {**os.environ, "ASRLOOP_ROOT": str(root)}
    start = time.perf_counter()
    output = subprocess.DEVNULL if quiet else None
    subprocess.run(command, cwd=root, env=env, check=True, stdout=output, stderr=output)
    return time.perf_counter() - start


def ensure_corpus(root: Path, overrides: list[str]) -> None:
    """A 600-clip training corpus (about 40 minutes of audio) under ``root``, made once."""
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "data" / "corpus" / "base").exists():
        seconds = asrloop(root, ["corpus", "synth", *CORPUS, *overrides])
        print(f"corpus synthesized in {seconds:.0f} s")


def training_speed(
    root: Path, label: str, minutes: float, overrides: list[str], processes: int = 1
) -> float:
    """Audio-seconds per second of ``minutes`` of training (no registration, no dev passes)."""
    import mlflow

    out = root / "models" / f"speed-{label}"
    asrloop(
        root,
        [
            "train",
            *CORPUS,
            f"train.max_minutes={minutes}",
            "train.epochs=1000",
            "train.eval_every=1000000",
            "train.log_every=10",
            "train.register=false",
            f"train.output_dir={out}",
            f"tracking.experiment=speed-{label}",
            *overrides,
        ],
        processes,
    )
    output = ModelOutput(out)
    run_id = TrainingResult.load(output.result).run_id
    output.checkpoint.unlink(missing_ok=True)  # the next run of this label starts anew
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    history = mlflow.MlflowClient().get_metric_history(run_id, "audio_seconds_per_second")
    speeds = [m.value for m in sorted(history, key=lambda m: m.step)]
    speeds = speeds[1:] or speeds  # the first window holds the warm-up
    return statistics.median(speeds) if speeds else float("nan")
