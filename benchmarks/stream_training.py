"""Training streamed from S3 tar shards against training from local folders: dev CER and speed.

    .venv/bin/python benchmarks/stream_training.py --project DIR [--work /tmp/asrloop-stream] \
        [--buffer 1000] [ARGS...]

``--project`` holds a built corpus (after ``make loop``, or ``asrloop corpus build``); it is not
changed. In ``--work`` (a fresh git + DVC project using that corpus), the team stack is started
(its S3 endpoint is the DVC remote), the corpus is packed (``asrloop corpus pack``: tar shards,
``dvc add``, ``dvc push``), the local copy and the DVC cache are removed, and the default
training runs twice, each in its own process: from the corpus folders (``train_data=folders``,
features computed once and held in memory) and streamed from the bucket (``train_data=stream
train_data.remote=team``, shards shuffled each epoch, ``--buffer`` clips batched together,
features computed as the clips stream in). ARGS are extra overrides for both runs.

Printed, with the machine: per run, the best dev CER, the training loop's seconds and audio
seconds per second (the stream's featurising is inside the loop; the folders' before it), the
process's wall seconds; the CER difference in points and the streamed/local speed ratio; and
whether anything was copied locally. Needs the team extra (``make setup-scale``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

from asrloop.artifacts import ModelOutput
from asrloop.config import compose
from asrloop.machine import describe, machine_record
from asrloop.records import TrainingResult
from asrloop.settings import typed
from asrloop.team import TeamStack

ASRLOOP = str(Path(sys.executable).parent / "asrloop")


def run(args: list[str], cwd: Path, env: dict) -> float:
    """Wall seconds of a command (its output passes through; a failure stops the benchmark)."""
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env={**env, "ASRLOOP_ROOT": str(cwd)}, check=True)
    return time.perf_counter() - start


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def work_project(work: Path, corpus: Path) -> Path:
    """A git + DVC project at ``work`` whose corpus path is ``corpus`` (read only)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for command in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"]):
        subprocess.run(command, cwd=work, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], cwd=work)
    (work / ".gitignore").write_text("models/\n.cache/\n.team/\nmlflow.db\nmlartifacts/\n")
    return work


def result_of(output: Path, wall: float) -> dict:
    result = TrainingResult.load(ModelOutput(output).result)
    state = torch.load(ModelOutput(output).checkpoint, weights_only=True)["state"]
    return {
        "best_dev_cer": result.best_dev_cer,
        "steps": result.steps,
        "train_seconds": round(result.train_seconds, 1),
        "audio_seconds_per_second": round(state["audio_seconds"] / result.train_seconds, 1),
        "process_seconds": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/asrloop-stream"))
    parser.add_argument("--buffer", type=int, default=1000)
    args, extra = parser.parse_known_args()
    corpus = (args.project / "data" / "corpus").resolve()
    root = work_project(args.work.resolve(), corpus)
    common = [f"paths.corpus={corpus}", "train.register=false", *extra]
    stack_cfg = compose(
        [f"paths.root={root}", f"team.mlflow_port={free_port()}", f"team.s3_port={free_port()}"]
    )
    stack = TeamStack.of(typed(stack_cfg).team, root)
    print(f"machine: {describe(machine_record())}", flush=True)
    stack.up()
    try:
        env = {**os.environ, **stack.env()}
        env.pop("MLFLOW_TRACKING_URI")  # runs tracked in the work project's sqlite
        pack_s = run([ASRLOOP, "corpus", "pack", *common], root, env)
        packed = root / "data" / "packed"
        index = json.loads((packed / "index.json").read_text())
        size = sum(p.stat().st_size for p in packed.glob("*.tar"))
        shutil.rmtree(packed)
        shutil.rmtree(root / ".dvc" / "cache", ignore_errors=True)

        folders_out = root / "models" / "folders"
        wall = run([ASRLOOP, "train", *common, f"train.output_dir={folders_out}"], root, env)
        folders = result_of(folders_out, wall)
        stream_out = root / "models" / "stream"
        stream_args = [
            "train_data=stream",
            f"train_data.remote={stack.dvc_remote}",
            f"train_data.buffer_clips={args.buffer}",
            f"train.output_dir={stream_out}",
        ]
        wall = run([ASRLOOP, "train", *common, *stream_args], root, env)
        streamed = result_of(stream_out, wall)
        copied = [str(p) for p in (root / ".dvc").rglob("*.tar")] + (
            [str(packed)] if packed.exists() else []
        )
    finally:
        stack.down()
    cer_points = 100 * (streamed["best_dev_cer"] - folders["best_dev_cer"])
    ratio = streamed["audio_seconds_per_second"] / folders["audio_seconds_per_second"]
    wall_ratio = folders["process_seconds"] / streamed["process_seconds"]
    report = {
        "machine": describe(machine_record()),
        "shards": len(index["shards"]),
        "packed_megabytes": round(size / 1e6, 1),
        "pack_seconds": round(pack_s, 1),
        "buffer_clips": args.buffer,
        "folders": folders,
        "stream_s3": streamed,
        "dev_cer_difference_points": round(cer_points, 2),
        "stream_to_local_audio_seconds_per_second": round(ratio, 2),
        "stream_to_local_wall": round(wall_ratio, 2),
        "copied_locally": copied,
    }
    print(
        f"packed {report['shards']} shards ({report['packed_megabytes']} MB) in {pack_s:.0f} s; "
        f"folders: dev CER {folders['best_dev_cer']:.4f}, "
        f"{folders['audio_seconds_per_second']} audio-s/s; streamed from S3: dev CER "
        f"{streamed['best_dev_cer']:.4f}, {streamed['audio_seconds_per_second']} audio-s/s; "
        f"difference {cer_points:+.2f} points, speed {ratio:.2f}x local (wall {wall_ratio:.2f}x); "
        f"copied locally: {copied or 'nothing'}"
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
