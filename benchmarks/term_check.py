"""The term check off, by letters alone and with its sounds: recall, precision and false alarms
of a model's new terms.

    .venv/bin/python benchmarks/term_check.py --root PROJECT --model registry:2 [overrides...]

``PROJECT`` is a project where the loop ran (its scenario's drops, vocabulary and registry);
scenario and other settings come as Hydra overrides (e.g. ``scenario=wildlife``). Decodes the
held-out drops, the frozen regression set and the test split with ``decode.term_check`` off,
by letters alone (``max_sound_distance=0``) and as configured (letters, then sounds), and
prints per term recall and precision (held-out + regression, as the gate counts them), the
false alarms on all three sets with what was said there, each set's WER and the decoding time,
with the machine's record.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from rich.console import Console
from rich.table import Table

from asrloop.config import compose
from asrloop.corpus.manifest import iter_corpus
from asrloop.inference.batch import transcribe_utterances
from asrloop.loop.lookalike_probe import false_alarms
from asrloop.machine import describe, machine_record
from asrloop.metrics import term_stats
from asrloop.scoring import score
from asrloop.steps.inference import InferenceContext

console = Console()


# each setting's overrides, after the command line's: "on" is the check as configured
SETTINGS = {
    "off": ["decode.term_check.enabled=false"],
    "letters": ["decode.term_check.enabled=true", "decode.term_check.max_sound_distance=0"],
    "on": [],
}


def measure(root: str, model: str, overrides: list[str], setting: str) -> dict:
    cfg = compose([f"paths.root={root}", *overrides, *SETTINGS[setting]])
    ctx = InferenceContext(cfg, "bench term check")
    terms = ctx.terms()
    sets = {
        "held-out drops": [c for d in ctx.drops_so_far() for c in d.clips("holdout")],
        "regression": list(iter_corpus(ctx.layout.base_corpus, ["regression"])),
        "test": list(iter_corpus(ctx.layout.base_corpus, ["test"])),
    }
    recognizer, _ = ctx.recognizer(model)
    predictions, start = {}, time.perf_counter()
    for name, clips in sets.items():
        predictions[name], _ = transcribe_utterances(recognizer, clips, 60.0, name, None)
    seconds = time.perf_counter() - start
    gate_sets = predictions["held-out drops"] + predictions["regression"]
    stats = term_stats([p.reference for p in gate_sets], [p.hypothesis for p in gate_sets], terms)
    everywhere = [p for found in predictions.values() for p in found]
    return {
        "terms": stats,
        "false alarms": false_alarms(everywhere, terms),
        "wer": {name: score(found, terms).wer for name, found in predictions.items()},
        "clips": sum(len(found) for found in predictions.values()),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--model", default="registry:2")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    console.print(f"machine: {describe(machine_record())}")
    results = {name: measure(args.root, args.model, args.overrides, name) for name in SETTINGS}
    table = Table(title=f"term check, {args.model} ({args.root})")
    for column in ("term check", "term", "recall", "precision", "false alarms (all sets)"):
        table.add_column(column)
    for name, result in results.items():
        for term, stats in result["terms"].items():
            said = result["false alarms"].get(term, Counter())
            listed = ", ".join(f"{w or '(nothing)'} x{n}" for w, n in said.most_common())
            table.add_row(
                name,
                term,
                f"{stats.recall:.3f}",
                f"{stats.precision:.3f}",
                f"{sum(said.values())}" + (f": {listed}" if listed else ""),
            )
    console.print(table)
    for name, result in results.items():
        wers = ", ".join(f"{split} {wer:.4f}" for split, wer in result["wer"].items())
        console.print(
            f"check {name}: WER {wers}; {result['clips']} clips decoded in "
            f"{result['seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
