"""Training speed and quality per wall-minute: fp32 against bf16 in one run.

    .venv/bin/python benchmarks/train_quality.py --root /tmp/asrloop-bench [--minutes 4] [overrides]

Synthesizes the default corpus under --root if missing and builds its vocabulary, then trains
the default model once per precision (fp32, and bf16 where this CPU or GPU does it fast) for the
same wall-clock budget, with dev evaluations every ``--eval-every`` steps. Prints audio-seconds
per second and the dev CER each reaches in that time, the greedy and lexicon+LM test scores of
each, and plots dev CER against wall time (``<root>/reports/bench/dev_cer_vs_time.png``).
The machine record (CPU, flags, cores, torch/oneDNN, load average) and a calibration (fp32 and
bf16 matmul GFLOP/s, memory GB/s) are measured before and after the runs; each run's speed is
also given as model FLOPs utilisation over the matmul peak of its precision, so two machines
compare by ratio.
``--profile`` adds a torch profile of a few training steps.
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

ASRLOOP = str(Path(sys.executable).parent / "asrloop")


def step(root: Path, *args: str) -> float:
    start = time.perf_counter()
    env = {**os.environ, "ASRLOOP_ROOT": str(root)}
    subprocess.run([ASRLOOP, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def train_run(root: Path, precision: str, minutes: float, eval_every: int, overrides) -> dict:
    """Train with one precision; returns speed, the dev CER curve against wall time, test."""
    import mlflow

    from asrloop.artifacts import ModelOutput
    from asrloop.records import TrainingResult

    out = root / "models" / f"bench-{precision}"
    shutil.rmtree(out, ignore_errors=True)  # else training resumes the last run's checkpoint
    seconds = step(
        root,
        "train",
        f"trainer.precision={precision}",
        f"train.max_minutes={minutes}",
        f"train.eval_every={eval_every}",
        "train.register=false",
        f"train.output_dir={out}",
        *overrides,
    )
    result = TrainingResult.load(ModelOutput(out).result)
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    client = mlflow.MlflowClient()
    run = client.get_run(result.run_id)
    speeds = sorted(
        m.value for m in client.get_metric_history(run.info.run_id, "audio_seconds_per_second")
    )
    start = run.info.start_time
    curve = sorted(
        ((m.timestamp - start) / 1000, m.value)
        for m in client.get_metric_history(run.info.run_id, "dev_cer")
    )
    scores = {}
    for decode in ("greedy", "lexicon_lm"):
        step(
            root,
            "evaluate",
            f"decode={decode}",
            f"evaluate.model={ModelOutput(out).best}",
            "evaluate.splits=[test]",
            *overrides,
        )
        report = json.loads((root / "reports" / "eval" / "metrics.json").read_text())
        test = report["results"]["test"]
        scores[decode] = (test["cer"], test["wer"])
    return {
        "precision": precision,
        "audio_per_second": speeds[len(speeds) // 2] if speeds else 0.0,
        "steps": result.steps,
        "wall_seconds": seconds,
        "curve": curve,
        "best_dev_cer": result.best_dev_cer,
        "test": scores,
    }


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for run in runs:
        times, cers = zip(*run["curve"], strict=True) if run["curve"] else ((), ())
        ax.plot(
            times,
            cers,
            marker="o",
            label=f"{run['precision']} ({run['audio_per_second']:.0f} audio-s/s)",
        )
    ax.set_xlabel("wall seconds since the run started")
    ax.set_ylabel("dev CER (greedy)")
    ax.set_title("dev CER against wall time, same budget")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def training_setup(root: Path, overrides: list[str], clips: int = 600):
    """The default model, its optimizer and length-bucketed batches of the first ``clips``
    training clips, as the trainer builds them."""
    import random

    import torch

    from asrloop.config import compose
    from asrloop.corpus.manifest import iter_corpus
    from asrloop.hardware import Hardware
    from asrloop.model.factory import build_model, build_processor
    from asrloop.model.training_data import bucket_batches, load_examples
    from asrloop.settings import typed
    from asrloop.text.tokenizer import CharTokenizer

    cfg = compose([f"paths.root={root}", *overrides])
    settings = typed(cfg)
    hardware = Hardware.resolve(settings.trainer).apply()
    rows = list(iter_corpus(cfg.paths.corpus, ["train"]))[:clips]
    tokenizer = CharTokenizer.from_texts([r.text for r in rows])
    model = build_model(settings.model, len(tokenizer))
    inputs = build_processor(settings.model, model, tokenizer).inputs(model, settings.features)
    train, _ = load_examples(rows, tokenizer, inputs, 20.0, "benchmark data")
    inputs.prepare(model, train)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batches = bucket_batches(train, settings.train.max_batch_frames, random.Random(0))
    return hardware, model, inputs, train, optimizer, batches


def train_steps(hardware, model, inputs, train, optimizer, batches) -> float:
    """Training steps over ``batches``; returns the audio seconds they held."""
    from asrloop.model.training_data import collate

    seconds = 0.0
    for ids in batches:
        with hardware.autocast():
            loss = model(**collate([train[i] for i in ids], inputs)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds += sum(train[i].duration for i in ids)
    return seconds


def flops_per_audio_second(root: Path, overrides: list[str]) -> float:
    """The model's FLOPs (forward and backward, counted once by torch's FlopCounterMode) per
    second of training audio, over a few batches of the default corpus."""
    from torch.utils.flop_counter import FlopCounterMode

    hardware, model, inputs, train, optimizer, batches = training_setup(root, overrides, 200)
    counter = FlopCounterMode(display=False)
    with counter:
        seconds = train_steps(hardware, model, inputs, train, optimizer, batches[:4])
    return counter.get_total_flops() / seconds


def profile_training(root: Path, overrides: list[str], precisions: list[str]) -> None:
    """Per-op self CPU time of the same training steps in each precision (after 3 warm-up
    steps), and the ops whose time changed most between the first and the last."""
    import torch

    totals: dict[str, dict[str, float]] = {}
    for precision in precisions:
        setup = training_setup(root, [*overrides, f"trainer.precision={precision}"])
        *parts, batches = setup
        train_steps(*parts, batches[:3])
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            train_steps(*parts, batches[3:13])
        averages = prof.key_averages()
        print(f"\n{precision}:")
        print(averages.table(sort_by="self_cpu_time_total", row_limit=15))
        totals[precision] = {e.key: e.self_cpu_time_total / 1000 for e in averages}
    if len(precisions) > 1:
        first, last = totals[precisions[0]], totals[precisions[-1]]
        names = sorted(first.keys() & last.keys(), key=lambda k: -max(first[k], last[k]))[:15]
        print(f"self CPU ms, {precisions[0]} -> {precisions[-1]}:")
        for name in names:
            print(f"  {name:<40} {first[name]:8.1f} -> {last[name]:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/tmp/asrloop-bench"))
    parser.add_argument("--minutes", type=float, default=4.0, help="training budget per run")
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "data" / "corpus" / "base").exists():
        print(f"corpus synthesized in {step(root, 'corpus', 'synth', *args.overrides):.0f} s")
    step(root, "vocab", "build", *args.overrides)

    from asrloop.hardware import cpu_has_fast_bf16, pick_device
    from asrloop.machine import calibrated_record, describe, usable_cores, utilisation

    before = calibrated_record(usable_cores())
    print(f"machine: {describe(before)}")
    per_audio_second = flops_per_audio_second(root, args.overrides)
    print(f"model: {per_audio_second / 1e9:.2f} GFLOP per second of training audio")
    precisions = ["fp32"]
    device = pick_device("auto")
    if device.type == "cuda" or cpu_has_fast_bf16():
        precisions.append("bf16")
    else:
        print("no fast bf16 on this machine: fp32 only")
    runs = [train_run(root, p, args.minutes, args.eval_every, args.overrides) for p in precisions]
    budget = args.minutes * 60
    after = calibrated_record(usable_cores())
    peaks = {  # each precision's matmul peak measured here (the better of the two calibrations)
        p: max(before["calibration"][f"{p}_gflops"], after["calibration"][f"{p}_gflops"])
        for p in ("fp32", "bf16")
    }
    print(f"machine after the runs: {describe(after)}")
    print(f"\n{device.type}, {usable_cores()} cores, {args.minutes:g} minutes of training each;")
    print(
        "MFU: the model's FLOP/s over the matmul peak of the run's precision measured here "
        f"(fp32 {peaks['fp32']:.0f}, bf16 {peaks['bf16']:.0f} GFLOP/s)"
    )
    print(
        f"{'precision':>9} {'audio-s/s':>10} {'MFU':>6} {'steps':>6} {'dev CER':>8} "
        f"{'test CER greedy':>16} {'test WER lexicon+LM':>20}"
    )
    for run in runs:
        within = [cer for t, cer in run["curve"] if t <= budget + 30]
        dev = min(within) if within else float("nan")
        greedy, lexicon = run["test"]["greedy"], run["test"]["lexicon_lm"]
        peak = peaks.get(run["precision"], peaks["fp32"])
        run["mfu"] = utilisation(run["audio_per_second"] * per_audio_second, peak)
        print(
            f"{run['precision']:>9} {run['audio_per_second']:>10.0f} {run['mfu']:>6.1%} "
            f"{run['steps']:>6} {dev:>8.4f} {greedy[0]:>16.4f} {lexicon[1]:>20.4f}"
        )
    path = root / "reports" / "bench" / "dev_cer_vs_time.png"
    plot(runs, path)
    record = {"machine": before, "machine_after": after, "runs": runs}
    (path.with_suffix(".json")).write_text(json.dumps(record, indent=1))
    print(f"dev CER against wall time: {path}")
    if args.profile:
        profile_training(root, args.overrides, precisions)


if __name__ == "__main__":
    main()
