"""Training quality and speed on the default config: the numbers the issues ask for.

    .venv/bin/python benchmarks/train_quality.py --root /tmp/asrloop-bench [overrides...]

Synthesizes the default corpus under --root if missing, builds the vocabulary, trains with the
default budget, then evaluates greedy and lexicon+LM decoding on the test split (held-out
voices) and prints CER/WER, training throughput and real-time factors. ``--profile`` adds a
torch profile of training steps (what bounds throughput).
"""

from __future__ import annotations

import argparse
import json
import os
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


def profile_training(root: Path, overrides: list[str]) -> None:
    import random

    import torch

    from asrloop.audio.features import FbankExtractor
    from asrloop.config import compose
    from asrloop.corpus.manifest import iter_corpus
    from asrloop.hardware import Hardware
    from asrloop.model.data import bucket_batches, collate, feature_stats, load_examples
    from asrloop.model.factory import build_model
    from asrloop.text.tokenizer import CharTokenizer

    cfg = compose([f"paths.root={root}", *overrides])
    Hardware.from_config(cfg.trainer).apply()
    rows = list(iter_corpus(cfg.paths.corpus, ["train"]))[:600]
    tokenizer = CharTokenizer.from_texts([r.text for r in rows])
    extractor = FbankExtractor.from_config(cfg.features)
    train, _ = load_examples(rows, tokenizer, extractor, 20.0, 4, "profile data")
    model = build_model(cfg.model, len(tokenizer), feature_stats(train))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batches = bucket_batches(train, cfg.train.max_batch_frames, random.Random(0))[:12]
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for ids in batches:
            loss = model(**collate([train[i] for i in ids])).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/tmp/asrloop-bench"))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    times = {}
    if not (root / "data" / "corpus" / "base").exists():
        times["synthesis_s"] = step(root, "corpus", "synth", *args.overrides)
    times["vocab_s"] = step(root, "vocab", "build", *args.overrides)
    times["train_s"] = step(root, "train", "train.register=false", *args.overrides)
    for decode in ("greedy", "lexicon_lm"):
        times[f"eval_{decode}_s"] = step(
            root,
            "evaluate",
            f"decode={decode}",
            f"evaluate.output_dir={root}/reports/bench-{decode}",
            *args.overrides,
        )
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    runs = mlflow.search_runs(
        experiment_names=["asrloop"],
        filter_string="tags.step = 'train'",
        order_by=["start_time DESC"],
        max_results=1,
    )
    run = runs.iloc[0]
    history = mlflow.MlflowClient().get_metric_history(run.run_id, "audio_seconds_per_second")
    speeds = [m.value for m in history]
    print(
        f"training: {len(speeds)} windows, median {sorted(speeds)[len(speeds) // 2]:.0f} s of "
        f"audio per second; dev CER best {run['metrics.dev_cer']:.4f}"
    )
    for decode in ("greedy", "lexicon_lm"):
        metrics = json.loads((root / "reports" / f"bench-{decode}" / "metrics.json").read_text())
        test = metrics["results"]["test"]
        print(
            f"{decode:>10}: test (held-out voices) CER {test['cer']:.4f} WER {test['wer']:.4f} "
            f"RTF {test['rtf']:.4f}"
        )
    print("wall seconds:", {k: round(v, 1) for k, v in times.items()})
    if args.profile:
        profile_training(root, args.overrides)


if __name__ == "__main__":
    main()
