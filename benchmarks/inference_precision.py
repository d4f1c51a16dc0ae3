"""Inference in fp32, bf16 and int8: acoustic-model time and accuracy on the same clips.

    .venv/bin/python benchmarks/inference_precision.py --root <project> [--model DIR] [--split test]

Loads a model folder (default: the project's champion export under ``models/current/best``),
reads the split's clips once and computes their features once, then runs the acoustic model in
each number format on the CPU: fp32; bf16 autocast where this CPU does bf16 fast; int8
dynamic quantization of the linear layers (``torch.ao.quantization.quantize_dynamic``). Each
format's log-probabilities are decoded greedily and with the lexicon + LM (the vocabulary
folder), so the table shows what a format costs in WER, not just what it saves in time.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import torch


def batches(examples: list, batch_seconds: float) -> list[list[int]]:
    order = sorted(range(len(examples)), key=lambda i: examples[i][1].shape[0])
    out, current, frames = [], [], 0
    for index in order:
        current.append(index)
        frames += examples[index][1].shape[0]
        if frames >= batch_seconds * 100:
            out.append(current)
            current, frames = [], 0
    return out + ([current] if current else [])


def variants(model) -> dict:
    """Name -> (model, the precision it runs under, as ``trainer.precision`` names it)."""
    from asrloop.hardware import cpu_has_fast_bf16

    out = {"fp32": (model, "fp32")}
    if cpu_has_fast_bf16():
        out["bf16"] = (model, "bf16")
    quantized = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8
    )
    out["int8 (linear)"] = (quantized, "fp32")
    return out


@torch.no_grad()
def log_probs(model, precision: str, inputs, clips, groups, repeats: int):
    """Per-clip log-probabilities and the best of ``repeats`` timings of the whole set."""
    from asrloop.hardware import autocast

    best, results = float("inf"), {}
    for _ in range(repeats):
        start = time.perf_counter()
        for group in groups:
            batch, lengths = inputs.batch([clips[i] for i in group])
            with autocast(torch.device("cpu"), precision):
                logits = model(**batch).logits
            out = logits.float().log_softmax(-1)
            for k, i in enumerate(group):
                results[i] = (out[k : k + 1], lengths[k : k + 1])
        best = min(best, time.perf_counter() - start)
    return results, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--model", type=Path, help="model folder (default: the best checkpoint)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--batch-seconds", type=float, default=240)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    from asrloop.audio.io import read_audio
    from asrloop.config import compose
    from asrloop.corpus.manifest import iter_corpus
    from asrloop.decode import GreedyDecoder, build_decoder
    from asrloop.hardware import Hardware
    from asrloop.metrics import cer, wer
    from asrloop.model.checkpoint import load_checkpoint
    from asrloop.settings import typed

    cfg = compose([f"paths.root={args.root.resolve()}", *args.overrides])
    settings = typed(cfg)
    threads = Hardware.resolve(settings.trainer).apply().threads
    model_dir = args.model or Path(cfg.train.output_dir) / "best"
    model, processor = load_checkpoint(model_dir)
    model.eval()
    inputs = processor.inputs(model, settings.features)
    rows = list(iter_corpus(cfg.paths.base_corpus, [args.split]))
    clips = [inputs(read_audio(r.audio_path, segment=r.segment)[0]) for r in rows]
    refs = [r.text or "" for r in rows]
    audio_seconds = sum(r.duration for r in rows)
    groups = batches(list(enumerate(clips)), args.batch_seconds)
    decoders = {
        "greedy": GreedyDecoder(processor.tokenizer),
        "lexicon+LM": build_decoder(settings.decode, processor.tokenizer, str(cfg.paths.vocab)),
    }
    print(f"{model_dir}: {len(rows)} clips, {audio_seconds:.0f} s {args.split}, {threads} threads")
    from asrloop.machine import calibrated_record, describe

    print(f"machine: {describe(calibrated_record(threads))}")
    header = ("format", "model s", "RTF", "WER greedy", "WER lex+LM", "CER")
    print("{:>14} {:>8} {:>8} {:>11} {:>11} {:>7}".format(*header))
    for name, (variant, precision) in variants(model).items():
        out, seconds = log_probs(variant, precision, inputs, clips, groups, args.repeats)
        scores = {}
        for label, decoder in decoders.items():
            hyps = [decoder.decode(*out[i])[0].text for i in range(len(rows))]
            scores[label] = (wer(refs, hyps), cer(refs, hyps))
        print(
            f"{name:>14} {seconds:>8.2f} {seconds / audio_seconds:>8.4f} "
            f"{scores['greedy'][0]:>11.4f} {scores['lexicon+LM'][0]:>11.4f} "
            f"{scores['lexicon+LM'][1]:>7.4f}"
        )


if __name__ == "__main__":
    main()
