"""A synthetic check of the gate's statistics: coverage under no change, power against +2 points.

    .venv/bin/python benchmarks/gate_statistics.py [--clips 150] [--trials 200]
        [--pair reports/eval/a.predictions.jsonl reports/eval/b.predictions.jsonl]

Each trial draws a regression set of ``--clips`` clips and computes the paired bootstrap interval
(``asrloop.stats.bootstrap.paired_difference``, 2,000 draws) of "B's WER minus A's":

* two copies of one model's outputs: the interval must contain 0;
* two models of equal quality that err on different clips (each clip's errors drawn twice from
  the same per-clip difficulty; with ``--pair``, two real models' per-clip errors swapped at
  random, clip by clip): the interval should contain 0 in about 95 % of trials;
* a planted regression: B's errors raised by 2 points of WER on randomly chosen clips: the
  interval's lower bound must lie above 0 (caught);

and prints how often the gate's non-inferiority clause (``gate.max_regression_wer_delta``) passes
a model with no true change, and the clips the power calculation asks for.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from asrloop.config import compose
from asrloop.metrics import utterance_errors
from asrloop.settings import typed
from asrloop.stats.bootstrap import paired_difference
from asrloop.stats.power import clips_needed


def per_clip(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    errors, words = utterance_errors([r["text"] for r in rows], [r["pred_text"] for r in rows])
    return np.array(errors), np.array(words), [r["id"] for r in rows]


def simulated_pool(size: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Words per clip 5-15, per-clip difficulty ~ Beta(1, 19) (mean WER 5 %), two models that
    err independently given the difficulty."""
    words = rng.integers(5, 16, size)
    difficulty = rng.beta(1, 19, size)
    return words, rng.binomial(words, difficulty), rng.binomial(words, difficulty)


def plant(errors: np.ndarray, words: np.ndarray, points: float, rng) -> np.ndarray:
    """``errors`` with ``points`` of WER added, one error at a time on random clips."""
    extra = int(points * words.sum() + 0.5)
    out = errors.copy()
    np.add.at(out, rng.integers(0, len(out), extra), 1)
    return out


def run(args) -> None:
    margin = typed(compose()).gate.max_regression_wer_delta
    rng = np.random.default_rng(args.seed)
    if args.pair:
        a, words, ids = per_clip(args.pair[0])
        b, _, other_ids = per_clip(args.pair[1])
        if ids != other_ids:
            raise SystemExit("the two predictions files must hold the same clips in one order")
    else:
        words, a, b = simulated_pool(20_000, rng)
    counts = {"copies": 0, "equal": 0, "caught": 0, "passes": 0}
    for trial in range(args.trials):
        idx = rng.integers(0, len(words), args.clips)
        w, ea, eb = words[idx], a[idx], b[idx]
        if args.pair:  # exchangeable: which model made a clip's errors is a coin flip
            swap = rng.random(args.clips) < 0.5
            ea, eb = np.where(swap, eb, ea), np.where(swap, ea, eb)
        copies = paired_difference(ea, ea.copy(), w, seed=trial)
        equal = paired_difference(ea, eb, w, seed=trial)
        planted = paired_difference(ea, plant(eb, w, 0.02, rng), w, seed=trial)
        counts["copies"] += copies.low <= 0 <= copies.high
        counts["equal"] += equal.low <= 0 <= equal.high
        counts["caught"] += planted.low > 0
        counts["passes"] += equal.high <= margin
    sd = float(np.std(b - a, ddof=1))
    per_clip_words = float(words.mean())
    source = f"{args.pair[0].name} vs {args.pair[1].name}" if args.pair else "simulated pool"
    print(f"per-clip errors from {source}: {per_clip_words:.1f} words/clip, sd of the per-clip")
    print(f"difference {sd:.3f}; {args.trials} trials of {args.clips} clips, 2,000 draws each")
    for key, text in (
        ("copies", "two copies: interval contains 0"),
        ("equal", "equal-quality models: interval contains 0"),
        ("caught", "planted +2 points: lower bound above 0 (caught)"),
        ("passes", f"equal-quality models: upper bound <= +{margin} (non-inferiority passes)"),
    ):
        print(f"  {text:<72} {counts[key] / args.trials:6.1%}")
    for margin in (0.005, 0.01, 0.02):
        needed = clips_needed(sd, per_clip_words, margin)
        print(f"  clips to detect +{margin * 100:.1f} points at 95 % with 80 % power: {needed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=150)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pair", type=Path, nargs=2, default=None)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
