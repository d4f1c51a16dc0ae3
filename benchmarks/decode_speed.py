"""Where evaluation's time goes, and what the beam costs: the acoustic model against the lexicon
beam search per clip, and WER against decoding time over a grid of beam sizes and thresholds.

    .venv/bin/python benchmarks/decode_speed.py --root /path/to/project \\
        [--model registry:champion] [--splits dev test] [--beams 50 24 12 6] \\
        [--thresholds 25 15 10] [--clips 0]

The acoustic model runs once per clip (timed alone); every grid point then decodes the same
log-probabilities with the project's decoder (lexicon + LM, the term check, whatever ``decode``
holds), so the times compare the searches alone. Pick a beam on dev, confirm it on test: the
row marked ``*`` is the configured default (``decode.beam_size``, ``decode.beam_threshold``).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from asrloop.audio.io import read_audio
from asrloop.config import compose
from asrloop.corpus.manifest import iter_corpus
from asrloop.decode import build_decoder
from asrloop.machine import calibrated_record, describe
from asrloop.metrics import wer
from asrloop.settings import typed
from asrloop.steps.inference import InferenceContext

console = Console()
BATCH = 16


def log_probs_of(recognizer, rows) -> tuple[list, float]:
    """The acoustic model's log-probabilities in batches, and its seconds (audio reading and
    one warm-up batch excluded)."""
    audios = [read_audio(r.audio_path, segment=r.segment)[0] for r in rows]
    recognizer.log_probs(audios[:BATCH])  # warm-up: first-call allocations, oneDNN primitives
    started = time.perf_counter()
    batches = [recognizer.log_probs(audios[i : i + BATCH]) for i in range(0, len(audios), BATCH)]
    return batches, time.perf_counter() - started


def decoded(decoder, batches) -> tuple[list[str], float]:
    """Every clip's text, and the seconds the search took."""
    started = time.perf_counter()
    texts = [h.text for log_probs, lengths in batches for h in decoder.decode(log_probs, lengths)]
    return texts, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--model", default="registry:champion")
    parser.add_argument("--splits", nargs="+", default=["dev", "test"])
    parser.add_argument("--beams", type=int, nargs="+", default=[50, 24, 12, 6])
    parser.add_argument("--thresholds", type=float, nargs="+", default=[25.0, 15.0, 10.0])
    parser.add_argument("--clips", type=int, default=0, help="at most this many per split (0: all)")
    parser.add_argument("--overrides", nargs="*", default=[])
    args = parser.parse_args()
    cfg = compose([f"paths.root={args.root}", *args.overrides])
    ctx = InferenceContext(cfg, "bench decode speed")
    decode = typed(cfg).decode
    if decode.type != "lexicon":
        raise SystemExit("decode_speed measures the lexicon beam search: decode=lexicon_lm")
    recognizer, info = ctx.recognizer(args.model)
    console.print(f"model {args.model} (v{info.model_version}), vocabulary {ctx.layout.vocab}")
    console.print(f"machine: {describe(calibrated_record())}")
    sets = {}
    for split in args.splits:
        rows = list(iter_corpus(ctx.layout.base_corpus, [split]))
        rows = rows[: args.clips] if args.clips else rows
        if not rows:
            console.print(f"{split}: no clips in {ctx.layout.base_corpus}, left out")
            continue
        batches, seconds = log_probs_of(recognizer, rows)
        sets[split] = ([r.text or "" for r in rows], batches)
        console.print(
            f"{split}: {len(rows)} clips, acoustic model {1000 * seconds / len(rows):.2f} ms/clip"
        )
    table = Table(title=f"lexicon beam search on {args.root.name} ({args.model})")
    table.add_column("beam size")
    table.add_column("threshold")
    for split in sets:
        table.add_column(f"{split} WER")
        table.add_column(f"{split} ms/clip")
    default = (decode.beam_size, float(decode.beam_threshold))
    points = sorted(
        set(itertools.product(args.beams, args.thresholds)) | {default},
        key=lambda p: (-p[0], -p[1]),
    )
    for beam, threshold in points:
        settings = replace(decode, beam_size=beam, beam_threshold=threshold)
        decoder = build_decoder(settings, recognizer.tokenizer, ctx.layout.vocab)
        cells = []
        for refs, batches in sets.values():
            hyps, seconds = decoded(decoder, batches)
            cells += [f"{wer(refs, hyps):.4f}", f"{1000 * seconds / len(refs):.2f}"]
        mark = "*" if (beam, threshold) == default else ""
        table.add_row(f"{beam}{mark}", f"{threshold:g}", *cells)
        console.print(f"beam {beam}{mark} threshold {threshold:g}: " + " ".join(cells))
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
