"""Review minutes per learned word: selection strategies against random, at review budgets.

    .venv/bin/python benchmarks/review_effort.py --project DIR [--scenarios brexit] \\
        [--strategies random term_focused entropy least_confidence] [--budgets 10 20 40 80] \\
        [--train] [--work /tmp/asrloop-review-effort]

``--project`` is a project whose champion (v1) is registered, e.g. one where ``make loop`` ran
(or ``asrloop loop`` was stopped after iteration 0); it is never changed: every run works on a
copy. Per scenario, the copy synthesizes the scenario's first drop, lets the champion serve it
(``transcribe``, which writes the CTC posteriors' entropy and margin beside the words) and
monitors it. Then, for each strategy and review budget (clips), triage ranks the review pool
with ``triage.selection.strategy`` and the simulated reviewer (``triage.reviewer``: each row
costs its audio plus 10 s) approves rows in rank order until the budget is spent.

Printed per strategy and budget: review minutes, approved clips that say each term, and
occurrences reviewed. With ``--train``, each budget also runs the loop's grow, vocabulary and
fine-tune (``grow`` -> ``vocab build`` -> ``train`` -> ``evaluate``, the real CLI) and prints
each term's recall on the drop's held-out audio and the regression WER: the quality those review
minutes bought. The whole table is written as JSON (``--work``/review_effort.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from new_words import EPOCH_BOUND, scores, step  # the same CLI runner and held-out scores


def copy_project(source: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    ignore = shutil.ignore_patterns("outputs", "multirun", ".pytest_cache", "__pycache__")
    shutil.copytree(source, target, symlinks=True, ignore=ignore)


def served_drop(project: Path, scenario: str, snapshot: Path) -> None:
    """A copy of ``project`` where the champion served the scenario's first drop."""
    copy_project(project, snapshot)
    args = [f"scenario={scenario}"]
    for command in (["drop", "synth"], ["transcribe"], ["monitor"]):
        step(snapshot, *command, *args)


def settings_of(root: Path, scenario: str):
    from asrloop.config import compose
    from asrloop.settings import typed

    os.environ["ASRLOOP_ROOT"] = str(root)
    return typed(compose([f"scenario={scenario}"]))


def reviewed(root: Path, scenario: str) -> dict:
    """What the simulated reviewer approved: minutes, clips and occurrences per term."""
    from asrloop.artifacts import TRIAGE_RESULT, Layout
    from asrloop.loop.review_queue import read_queue
    from asrloop.metrics import times_said
    from asrloop.records import TriageResult

    settings = settings_of(root, scenario)
    layout = Layout(root)
    drop = settings.scenario.drop.name
    queue = [item for item in read_queue(layout.review_queue(drop)) if item.approved]
    effort = TriageResult.load(layout.triage_dir(drop) / TRIAGE_RESULT).effort
    terms = list(settings.scenario.terms)
    return {
        "minutes": effort.minutes if effort else None,
        "approved": len(queue),
        "clips_with_term": {t: sum(times_said(i.reference, t) > 0 for i in queue) for t in terms},
        "occurrences": {t: sum(times_said(i.reference, t) for i in queue) for t in terms},
    }


def trained(root: Path, scenario: str) -> dict:
    """Grow, vocabulary, fine-tune and evaluate on the copy; the quality the review bought."""
    args = [f"scenario={scenario}", "loop.commit=false", "grow.max_rounds=0", *EPOCH_BOUND]
    step(root, "grow", *args)
    step(root, "vocab", "build", *args)
    seconds = step(root, "train", "train.register=false", *args)
    step(root, "evaluate", *args)
    return {**scores(root), "train_seconds": round(seconds, 1)}


def run_budget(snapshot: Path, work: Path, scenario: str, strategy: str, budget: int, train: bool):
    root = work / "run"
    copy_project(snapshot, root)
    settings = settings_of(root, scenario)
    shutil.rmtree(root / "data" / "reviews" / settings.scenario.drop.name, ignore_errors=True)
    step(
        root,
        "triage",
        f"scenario={scenario}",
        f"triage.selection.strategy={strategy}",
        f"triage.reviewer.budget_clips={budget}",
        f"triage.selection.size={max(budget, 100)}",
    )
    row = {"strategy": strategy, "budget": budget, **reviewed(root, scenario)}
    if train:
        row.update(trained(root, scenario))
    shutil.rmtree(root, ignore_errors=True)
    return row


def print_table(scenario: str, rows: list[dict]) -> None:
    terms = list(rows[0]["occurrences"])
    print(f"\n{scenario}: review minutes, approved clips saying each term (occurrences)")
    head = f"  {'strategy':<18}{'budget':>7}{'minutes':>9}  " + "  ".join(terms)
    if "recall" in rows[0]:
        head += "   recall " + " ".join(terms) + "   regression WER"
    print(head)
    for row in rows:
        cells = "  ".join(f"{row['clips_with_term'][t]} ({row['occurrences'][t]})" for t in terms)
        line = f"  {row['strategy']:<18}{row['budget']:>7}{row['minutes']:>9.1f}  {cells}"
        if "recall" in row:
            recall = " ".join(f"{row['recall'].get(t, 0.0):.2f}" for t in terms)
            line += f"   {recall}   {row['regression_wer']:.4f}"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--scenarios", nargs="+", default=["brexit"])
    parser.add_argument(
        "--strategies",
        nargs="+",
        default=[
            "random",
            "mixed",
            "least_confidence",
            "margin",
            "entropy",
            "disagreement",
            "term_focused",
        ],
    )
    parser.add_argument("--budgets", nargs="+", type=int, default=[10, 20, 40, 80])
    parser.add_argument("--train", action="store_true", help="fine-tune and evaluate each budget")
    parser.add_argument("--work", type=Path, default=Path("/tmp/asrloop-review-effort"))
    args = parser.parse_args()
    from asrloop.machine import describe, machine_record

    print(f"machine: {describe(machine_record())}")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    table: dict[str, list[dict]] = {}
    for scenario in args.scenarios:
        snapshot = work / f"{scenario}-served"
        served_drop(args.project.resolve(), scenario, snapshot)
        rows = table[scenario] = []
        for strategy in args.strategies:
            for budget in args.budgets:
                rows.append(run_budget(snapshot, work, scenario, strategy, budget, args.train))
                print(json.dumps(rows[-1]), flush=True)
        print_table(scenario, rows)
        (work / "review_effort.json").write_text(json.dumps(table, indent=1))
    print(f"table: {work / 'review_effort.json'}")


if __name__ == "__main__":
    main()
