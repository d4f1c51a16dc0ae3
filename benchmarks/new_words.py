"""Which levers make the loop learn a new word: an ablation over the scenarios' first drops.

    .venv/bin/python benchmarks/new_words.py --root /tmp/asrloop-words \\
        [--scenarios pandemic westminster brexit] [--variants all]

Builds (once) the default corpus and champion v1, then for each scenario synthesizes its first
drop, lets v1 serve it, monitors and triages it (the demo reviewer approves), and measures v1.
Then, for each lever setting, from that same state: grow, rebuild the vocabulary, fine-tune the
champion and evaluate. Prints, per scenario and setting, each term's recall and precision
(held-out drop audio; precision also counts false alarms on the regression set) and the
regression WER, and writes the table as JSON beside the project. Every step is the real CLI
with Hydra overrides; budgets are step-bound, so a busy machine changes times, not results.
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
EPOCH_BOUND = ["train.max_minutes=120", "train.finetune_when_grown.max_minutes=120"]

# lever settings: name -> overrides (each a config change; nothing here is code)
VARIANTS = {
    "reviewed clips only": [
        "grow.synthesize.copies=0",
        "train.grown_repeat=1",
        "vocab.hotword_boost=0.0",
    ],
    "+ oversampling x4": [
        "grow.synthesize.copies=0",
        "train.grown_repeat=4",
        "vocab.hotword_boost=0.0",
    ],
    "+ hot words": ["grow.synthesize.copies=0", "train.grown_repeat=4", "vocab.hotword_boost=2.0"],
    "+ synthesized renditions x6": [
        "grow.synthesize.copies=6",
        "train.grown_repeat=4",
        "vocab.hotword_boost=2.0",
    ],
    "defaults": [],
}


def step(root: Path, *args: str) -> float:
    start = time.perf_counter()
    env = {**os.environ, "ASRLOOP_ROOT": str(root)}
    result = subprocess.run([ASRLOOP, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"asrloop {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def champion(root: Path) -> None:
    """Corpus, vocabulary and model v1 (champion and baseline), unless already there."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    client = mlflow.MlflowClient()
    try:
        client.get_model_version_by_alias("asrloop-news-ctc", "champion")
        return
    except mlflow.exceptions.MlflowException:
        pass
    step(root, "corpus", "synth")
    step(root, "vocab", "build")
    seconds = step(root, "train", *EPOCH_BOUND)
    print(f"champion v1 trained in {seconds:.0f} s")
    for alias in ("champion", "baseline"):
        client.set_registered_model_alias("asrloop-news-ctc", alias, "1")


def scores(root: Path) -> dict:
    from asrloop.loop.summary import term_precision
    from asrloop.records import EvaluationReport

    report = EvaluationReport.load(root / "reports" / "eval" / "metrics.json")
    held = report.results["drop_holdout"]
    return {
        "recall": {t: s.recall for t, s in held.terms.items() if s.support},
        "support": {t: s.support for t, s in held.terms.items() if s.support},
        "precision": term_precision(report.results),
        "regression_wer": report.results["regression"].wer,
        "test_wer": report.results["test"].wer,
        "heldout_wer": held.wer,
    }


def scenario_state(root: Path, scenario: str, snapshot: Path) -> dict:
    """The first drop served by v1, triaged; v1's numbers on it."""
    args = [f"scenario={scenario}", "evaluate.model=registry:champion"]
    for command in (["drop", "synth"], ["transcribe"], ["monitor"], ["triage"], ["evaluate"]):
        step(root, *command, *args)
    before = scores(root)
    shutil.rmtree(snapshot, ignore_errors=True)
    shutil.copytree(root, snapshot, symlinks=True)
    return before


def variant(root: Path, snapshot: Path, scenario: str, overrides: list[str]) -> dict:
    shutil.rmtree(root)
    shutil.copytree(snapshot, root, symlinks=True)
    args = [f"scenario={scenario}", "loop.commit=false", *EPOCH_BOUND, *overrides]
    step(root, "grow", *args)
    step(root, "vocab", "build", *args)
    seconds = step(root, "train", "train.register=false", *args)
    step(root, "evaluate", *args)
    return {**scores(root), "train_seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/tmp/asrloop-words"))
    parser.add_argument("--scenarios", nargs="+", default=["pandemic", "westminster"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    args = parser.parse_args()
    root = (args.root / "project").resolve()
    root.mkdir(parents=True, exist_ok=True)
    champion(root)
    base = args.root / "champion"
    shutil.rmtree(base, ignore_errors=True)
    shutil.copytree(root, base, symlinks=True)
    table = {}
    for scenario in args.scenarios:
        shutil.rmtree(root)
        shutil.copytree(base, root, symlinks=True)
        snapshot = args.root / f"{scenario}-triaged"
        table[scenario] = {"v1 (before)": scenario_state(root, scenario, snapshot)}
        for name in args.variants:
            table[scenario][name] = variant(root, snapshot, scenario, VARIANTS[name])
            print(scenario, name, json.dumps(table[scenario][name]))
    out = args.root / "new_words.json"
    out.write_text(json.dumps(table, indent=1))
    for scenario, rows in table.items():
        terms = list(next(iter(rows.values()))["precision"])
        print(f"\n{scenario}: recall / precision per term, regression WER")
        for name, row in rows.items():
            cells = [
                f"{t} {row['recall'].get(t, 0):.2f}/{row['precision'].get(t, 1):.2f}" for t in terms
            ]
            print(f"  {name:<30} {'  '.join(cells)}  regression {row['regression_wer']:.4f}")
    print(f"table: {out}")


if __name__ == "__main__":
    main()
