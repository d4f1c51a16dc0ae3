"""Synthesis speed: seconds of audio per wall second, espeak-ng voices, in parallel workers.

.venv/bin/python benchmarks/synthesis_speed.py            # 600 clips, workers 1 and 2
.venv/bin/python benchmarks/synthesis_speed.py --full     # the default base corpus
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from asrloop.config import compose
from asrloop.corpus.manifest import iter_corpus
from asrloop.corpus.plan import plan_corpus
from asrloop.corpus.shards import render_shards
from asrloop.settings import typed


def measure(shards, workers: int) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(prefix="asrloop-synth-"))
    try:
        start = time.perf_counter()
        render_shards(shards, root, workers=workers)
        seconds = time.perf_counter() - start
        audio = sum(row.duration for row in iter_corpus(root))
        return audio, seconds
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the default base corpus")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    overrides = (
        []
        if args.full
        else [
            "corpus.splits.train=600",
            "corpus.splits.dev=0",
            "corpus.splits.test=0",
            "corpus.splits.regression=0",
            "corpus.shard_size=100",
        ]
    )
    cfg = compose(overrides)
    shards = plan_corpus(typed(cfg).corpus, cfg.scenario.terms)
    clips = sum(len(s.clips) for s in shards)
    for workers in args.workers:
        audio, seconds = measure(shards, workers)
        print(
            f"workers={workers}: {clips} clips, {audio / 3600:.2f} h of audio in "
            f"{seconds:.1f} s wall = {audio / seconds:.0f} s of audio per second"
        )


if __name__ == "__main__":
    main()
