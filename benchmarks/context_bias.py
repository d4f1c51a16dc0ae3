"""Context biasing measured: B-WER, U-WER, term recall, false alarms and decoding time, with no
biasing, with the terms alone and with 1,000 phrases (the terms plus distractor words and pairs
of the corpus), on a project that ran ``make loop``.

    .venv/bin/python benchmarks/context_bias.py --root /path/to/project \\
        [--model registry:1] [--bonuses 0 2 4 6] [--phrases 1000] [--clips 0] [--modes graph lm]

The acoustic model runs once per clip; each decoder then decodes the same log-probabilities, so
the times compare the searches alone (building each decoder, which for ``lm`` compiles the
phrases into the n-gram LM, is timed apart). ``--model registry:1`` with the project's current
vocabulary is "recall at vocabulary update": the first champion, unchanged, decoding with the
vocabulary that triage grew. Sets: the held-out drop audio (the terms) and the regression set
(term-free: U-WER and false alarms).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

from decode_speed import decoded
from rich.console import Console
from rich.table import Table

from asrloop.audio.io import read_audio
from asrloop.config import compose
from asrloop.corpus.manifest import iter_corpus
from asrloop.decode import build_decoder
from asrloop.machine import calibrated_record, describe
from asrloop.metrics import biased_errors, false_alarm_clips, term_stats
from asrloop.settings import typed
from asrloop.steps.inference import InferenceContext
from asrloop.text.vocabulary import load_vocabulary

console = Console()


def distractors(vocab_dir: Path, terms: list[str], count: int, seed: int) -> list[str]:
    """Rare words of the corpus and pairs of them (half each), none of them a term: the
    biasing lists of the literature hold rare words (Le et al. 2021: words outside the 5,000
    most frequent), not the words every sentence says."""
    counts = load_vocabulary(vocab_dir).words
    ranked = sorted((n, w) for w, n in counts.items() if w not in terms and w.isalpha())
    rare = [w for _, w in ranked[: max(count, 1)]]
    rng = random.Random(seed)
    singles = rare[: count // 2]
    pairs = {f"{rng.choice(rare)} {rng.choice(rare)}" for _ in range(count)}
    return (singles + sorted(pairs))[: max(count - len(terms), 0)]


def scores(refs, hyps, terms, phrases) -> dict:
    biased = biased_errors(refs, hyps, phrases)
    stats = term_stats(refs, hyps, terms)
    alarms, free = false_alarm_clips(refs, hyps, terms)
    return {
        "b_wer": biased.b_wer,
        "u_wer": biased.u_wer,
        "recall": {t: s.recall for t, s in stats.items() if s.support},
        "precision": {t: s.precision for t, s in stats.items() if s.tp + s.fp},
        "alarms": f"{alarms}/{free}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--model", default="registry:1")
    parser.add_argument("--bonuses", type=float, nargs="+", default=[2.0, 4.0, 6.0])
    parser.add_argument("--phrases", type=int, default=1000)
    parser.add_argument("--modes", nargs="+", default=["graph", "lm"], choices=["graph", "lm"])
    parser.add_argument("--clips", type=int, default=0, help="at most this many per set (0: all)")
    parser.add_argument("--overrides", nargs="*", default=[])
    args = parser.parse_args()
    cfg = compose([f"paths.root={args.root}", *args.overrides])
    ctx = InferenceContext(cfg, "bench context bias")
    settings = typed(cfg)
    terms = [str(t) for t in settings.scenario.terms]
    recognizer, info = ctx.recognizer(args.model)
    vocab = ctx.layout.vocab
    console.print(f"model {args.model} (v{info.model_version}), vocabulary {vocab}")
    console.print(f"machine: {describe(calibrated_record())}")
    held = [c for drop in ctx.drops_so_far() for c in drop.clips("holdout")]
    regression = list(iter_corpus(ctx.layout.base_corpus, ["regression"]))
    if args.clips:
        held, regression = held[: args.clips], regression[: args.clips]
    rows = held + regression
    console.print(f"{len(held)} held-out drop clips, {len(regression)} regression clips")
    started = time.perf_counter()
    audios = [read_audio(r.audio_path, segment=r.segment)[0] for r in rows]
    batches = []
    for i in range(0, len(audios), 16):
        batches.append(recognizer.log_probs(audios[i : i + 16]))
    console.print(f"acoustic model: {time.perf_counter() - started:.1f} s")
    listed = distractors(vocab, terms, args.phrases, settings.seed)
    decode = settings.decode
    variants = {"no biasing": replace(decode, bias=replace(decode.bias, bonus=0.0))}
    for mode in args.modes:
        for bonus in args.bonuses:
            terms_only = replace(decode.bias, phrases=terms, extra=[], bonus=bonus, mode=mode)
            variants[f"{mode}: terms, bonus {bonus:g}"] = replace(decode, bias=terms_only)
            many = replace(decode.bias, phrases=terms, extra=listed, bonus=bonus, mode=mode)
            variants[f"{mode}: {len(terms) + len(listed)} phrases, bonus {bonus:g}"] = replace(
                decode, bias=many
            )
    table = Table(title=f"context biasing on {args.root.name} ({args.model}), {len(rows)} clips")
    columns = ("decoder", "B-WER", "U-WER", "recall", "precision", "false alarms", "ms/clip")
    for column in (*columns, "build s"):
        table.add_column(column)
    for name, variant in variants.items():
        start = time.perf_counter()
        decoder = build_decoder(variant, recognizer.tokenizer, vocab)
        built = time.perf_counter() - start
        hyps, spent = decoded(decoder, batches)
        refs = [r.text for r in rows]
        s = scores(refs, hyps, terms, terms)
        recall = ", ".join(f"{t} {v:.2f}" for t, v in s["recall"].items())
        precision = ", ".join(f"{t} {v:.2f}" for t, v in s["precision"].items())
        ms = 1000 * spent / len(rows)
        cells = (f"{s['b_wer']:.3f}", f"{s['u_wer']:.4f}", recall, precision, s["alarms"])
        table.add_row(name, *cells, f"{ms:.1f}", f"{built:.1f}")
        console.print(
            f"{name}: B-WER {s['b_wer']:.3f} U-WER {s['u_wer']:.4f} recall {recall} "
            f"precision {precision} false alarms {s['alarms']} {ms:.1f} ms/clip, built in "
            f"{built:.1f} s"
        )
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
