"""Import speed: seconds of 16 kHz FLAC audio imported per wall second (LibriSpeech layout).

.venv/bin/python benchmarks/import_speed.py               # 1 h of audio, workers 1 and 2
.venv/bin/python benchmarks/import_speed.py --hours 3

The corpus is made from espeak-ng sentences, joined into ~15 s files of 40 speakers. The figure
covers reading the layout (lhotse), text normalisation, split planning, decoding, writing
16 kHz WAV shards and the manifests; ``import lhotse`` itself (a one-off ~3 s per process) is
timed apart.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from asrloop.audio.io import SAMPLE_RATE
from asrloop.config import compose
from asrloop.corpus.importer.importing import ImportSettings, import_corpus
from asrloop.corpus.synthesis import VoiceSpec, synthesize
from asrloop.settings import typed
from asrloop.text.normalize import normalize_text

SENTENCES = [
    "The council met on the 3rd of May and 42 members voted.",
    "Prices rose by five percent in 2019 and nobody was surprised.",
    "Trains to the north were delayed by twenty five minutes.",
    "A new bridge opened after six years of work.",
    "Farmers sold their wheat at a better price this year.",
    "Storms cut power to ten thousand homes overnight.",
    "The library will open a new wing in April.",
    "Students protested against higher fees on Tuesday.",
]
SPEAKERS = 40
FILE_SECONDS = 15.0


def make_corpus(folder: Path, hours: float) -> Path:
    """``LibriSpeech/train-clean-100/<spk>/1/*.flac`` of about ``hours`` of speech."""
    spoken = [
        synthesize(normalize_text(s), VoiceSpec("en-us+klatt2"), k) for k, s in enumerate(SENTENCES)
    ]
    rng = np.random.default_rng(0)
    files = int(hours * 3600 / FILE_SECONDS)
    lines: dict[Path, list[str]] = {}
    for k in range(files):
        speaker = str(100 + k % SPEAKERS)
        chapter = folder / "LibriSpeech" / "train-clean-100" / speaker / "1"
        chapter.mkdir(parents=True, exist_ok=True)
        order, audio = [], []
        while sum(len(a) for a in audio) < FILE_SECONDS * SAMPLE_RATE:
            order.append(int(rng.integers(len(SENTENCES))))
            audio.append(spoken[order[-1]])
        utt = f"{speaker}-1-{k:05d}"
        sf.write(chapter / f"{utt}.flac", np.concatenate(audio), SAMPLE_RATE, format="FLAC")
        text = " ".join(SENTENCES[i] for i in order).upper()
        lines.setdefault(chapter, []).append(f"{utt} {text}")
    for chapter, rows in lines.items():
        (chapter / f"{chapter.parent.name}-1.trans.txt").write_text("\n".join(rows) + "\n")
    return folder / "LibriSpeech"


def measure(source: Path, workers: int) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(prefix="asrloop-import-"))
    try:
        cfg = compose(
            [
                f"paths.root={root}",
                "corpus.source=import",
                "corpus.importer.format=librispeech",
                f"corpus.importer.path={source}",
                f"corpus.importer.workers={workers}",
                "corpus.shard_size=300",
            ]
        )
        settings = typed(cfg).corpus
        start = time.perf_counter()
        report = import_corpus(ImportSettings.of(settings), Path(cfg.paths.base_corpus))
        return report.hours * 3600, time.perf_counter() - start
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=1.0, help="hours of audio to import")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="asrloop-import-src-"))
    try:
        source = make_corpus(scratch, args.hours)
        start = time.perf_counter()
        import lhotse  # noqa: F401  (a one-off cost per process, timed apart)

        print(f"import lhotse: {time.perf_counter() - start:.1f} s (once per process)")
        for workers in args.workers:
            audio, seconds = measure(source, workers)
            print(
                f"workers={workers}: {audio / 3600:.2f} h of 16 kHz FLAC imported in {seconds:.1f} "
                f"s wall = {audio / seconds:.0f} s of audio per second"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
