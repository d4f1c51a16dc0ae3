"""Synthesize the base corpus (``asrloop corpus synth``): plan every shard, render the missing
ones, remove shards asrloop wrote that the plan no longer has."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from asrloop.corpus import ownership
from asrloop.corpus.manifest import iter_corpus
from asrloop.corpus.plan import plan_corpus
from asrloop.corpus.shards import render_shards
from asrloop.progress import console, progress_bar
from asrloop.settings.corpus import CorpusSettings

STEP = "corpus synth"


def build_corpus(corpus: CorpusSettings, terms: Sequence[str], root: Path) -> dict:
    """Render every shard of the ``corpus`` settings under ``root``."""
    ownership.claim(root, STEP)
    shards = plan_corpus(corpus, forbidden_words=list(terms))
    removed = ownership.prune(root, STEP, [s.name for s in shards])
    if removed:
        console.print(f"removed shards asrloop wrote that the plan no longer has: {removed}")
    total = sum(len(s.clips) for s in shards)
    start = time.perf_counter()
    with progress_bar(f"synthesizing {len(shards)} shards", total) as advance:
        folders = render_shards(shards, root, workers=corpus.workers, on_progress=advance)
    ownership.record(root, STEP, [f.name for f in folders])
    seconds = time.perf_counter() - start
    audio = sum(row.duration for row in iter_corpus(root))
    stats = {"clips": total, "audio_hours": audio / 3600, "wall_seconds": seconds}
    console.print(
        f"corpus: {total} clips, {audio / 3600:.2f} h of audio in {len(shards)} shards "
        f"({seconds:.1f} s wall)"
    )
    return stats
