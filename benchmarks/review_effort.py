"""Review minutes per learned word: selection strategies against random, at review budgets.

    .venv/bin/python benchmarks/review_effort.py --project DIR [--scenarios brexit] \\
        [--strategies random term_focused entropy least_confidence] [--budgets 10 20 40 80] \\
        [--train] [--work /tmp/asrloop-review-effort] [--reuse]
    .venv/bin/python benchmarks/review_effort.py --tables A.json B.json --plot review.png

``--project`` is a project whose champion (v1) is registered, e.g. one where ``make loop`` ran
(or ``asrloop loop`` was stopped after iteration 0); every run works on a copy (whose runs'
artifacts land, unreferenced, in the project's ``mlartifacts``). Per scenario, the copy
synthesizes the scenario's first drop, lets the champion serve it (``transcribe``, which writes
the CTC posteriors' entropy and margin beside the words) and monitors it. Then, for each
strategy and review budget (clips), triage ranks the review pool with
``triage.selection.strategy`` and the simulated reviewer (``triage.reviewer``: each row costs
its audio plus 10 s) approves rows in rank order until the budget is spent.

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

from new_words import EPOCH_BOUND, scores
from new_words import step as cli_step

# The copies read the project's tracking database, whose experiment keeps its artifacts in the
# project's mlartifacts folder: they name that folder on purpose (their new runs' artifacts land
# there too, unreferenced by the project's own database).
TRACKING: list[str] = []


def step(root: Path, *args: str) -> float:
    return cli_step(root, *args, *TRACKING)


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
    layout = Layout.from_paths(settings.paths)
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


def drop_terms(rows: list[dict]) -> list[str]:
    """The scenario's terms this drop says (a later drop may bring the others)."""
    said = {t for row in rows for t, n in row["occurrences"].items() if n}
    said |= {t for row in rows for t in row.get("recall", {})}
    return [t for t in rows[0]["occurrences"] if t in said]


def print_table(scenario: str, rows: list[dict]) -> None:
    terms = drop_terms(rows)
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


def plot(table: dict[str, list[dict]], path: Path) -> Path:
    """Term clips reviewed (and, when trained, held-out recall) against review minutes, one line
    per strategy and one panel per scenario and term."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(scenario, term) for scenario, rows in table.items() for term in drop_terms(rows)]
    trained = all("recall" in row for rows in table.values() for row in rows)
    fig, axes = plt.subplots(
        1 + trained, len(panels), figsize=(4.5 * len(panels), 3.6 * (1 + trained)), squeeze=False
    )
    names = sorted({row["strategy"] for rows in table.values() for row in rows} - {"random"})
    colors = {"random": "black", **{name: f"C{i}" for i, name in enumerate(names)}}
    for k, (scenario, term) in enumerate(panels):
        strategies = dict.fromkeys(row["strategy"] for row in table[scenario])
        for strategy in strategies:
            rows = [row for row in table[scenario] if row["strategy"] == strategy]
            minutes = [row["minutes"] for row in rows]
            style = {"color": colors[strategy], "linewidth": 2.5 if strategy == "random" else 1.5}
            axes[0][k].plot(
                minutes, [r["clips_with_term"][term] for r in rows], "o-", label=strategy, **style
            )
            if trained:
                axes[1][k].plot(minutes, [r["recall"].get(term, 0.0) for r in rows], "o-", **style)
        axes[0][k].set_title(f"{scenario}: '{term}'")
        axes[0][k].set_ylabel("approved clips saying it")
        if trained:
            axes[1][k].axhline(0.95, color="grey", linestyle=":")
            axes[1][k].set_ylim(0.0, 1.02)
            axes[1][k].set_ylabel("held-out recall after fine-tune")
        axes[-1][k].set_xlabel("review minutes (audio + 10 s a clip)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def minutes_to_learn(rows: list[dict], target: float = 0.95) -> dict[str, dict | None]:
    """Per strategy: the fewest review minutes (of the budgets run) after which every term
    reached ``target`` held-out recall, with that run's regression WER (None: never)."""
    found: dict[str, dict | None] = {}
    for row in sorted(rows, key=lambda r: r["minutes"]):
        strategy = row["strategy"]
        found.setdefault(strategy, None)
        terms = row["recall"]  # the terms the drop's held-out audio says
        if found[strategy] is None and terms and all(terms[t] >= target for t in terms):
            found[strategy] = {"minutes": row["minutes"], "regression_wer": row["regression_wer"]}
    return found


def print_minutes_to_learn(scenario: str, rows: list[dict]) -> None:
    found = minutes_to_learn(rows)
    baseline = found.get("random")
    print(f"{scenario}: review minutes until every term reaches recall 0.95 (held-out audio)")
    for strategy, hit in found.items():
        if hit is None:
            print(f"  {strategy:<18} not within the budgets run")
            continue
        ratio = f" ({hit['minutes'] / baseline['minutes']:.2f} x random)" if baseline else ""
        print(
            f"  {strategy:<18} {hit['minutes']:5.1f} min{ratio}, "
            f"regression WER {hit['regression_wer']:.4f}"
        )


def report_tables(paths: list[Path], plot_path: Path) -> None:
    """Tables of earlier runs, merged by scenario (rows of one budget and strategy from a later
    file replace an earlier file's), printed and plotted."""
    merged: dict[str, dict[tuple[str, int], dict]] = {}
    for path in paths:
        for scenario, rows in json.loads(path.read_text()).items():
            for row in rows:
                merged.setdefault(scenario, {})[(row["strategy"], row["budget"])] = row
    table = {
        scenario: sorted(
            rows.values(), key=lambda r: (r["strategy"] != "random", r["strategy"], r["budget"])
        )
        for scenario, rows in merged.items()
    }
    for scenario, rows in table.items():
        print_table(scenario, rows)
        if all("recall" in row for row in rows):
            print_minutes_to_learn(scenario, rows)
    print(f"plot: {plot(table, plot_path)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path)
    parser.add_argument(
        "--tables",
        nargs="+",
        type=Path,
        help="print and plot tables written by earlier runs (merged by scenario), run nothing",
    )
    parser.add_argument("--plot", type=Path, help="where --tables writes its plot")
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
    parser.add_argument("--reuse", action="store_true", help="keep a served drop from a last run")
    args = parser.parse_args()
    if args.tables:
        report_tables(args.tables, args.plot or Path("review_effort.png"))
        return
    if args.project is None:
        parser.error("--project is required (or --tables)")
    from asrloop.machine import describe, machine_record

    print(f"machine: {describe(machine_record())}")
    TRACKING.append(f"tracking.artifact_root={args.project.resolve() / 'mlartifacts'}")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    table: dict[str, list[dict]] = {}
    for scenario in args.scenarios:
        snapshot = work / f"{scenario}-served"
        if not (args.reuse and snapshot.exists()):
            served_drop(args.project.resolve(), scenario, snapshot)
        rows = table[scenario] = []
        for strategy in args.strategies:
            for budget in args.budgets:
                rows.append(run_budget(snapshot, work, scenario, strategy, budget, args.train))
                print(json.dumps(rows[-1]), flush=True)
        print_table(scenario, rows)
        if args.train:
            print_minutes_to_learn(scenario, rows)
    out = work / f"review_effort{'_trained' if args.train else ''}"
    out.with_suffix(".json").write_text(json.dumps(table, indent=1))
    print(f"table: {out.with_suffix('.json')}, plot: {plot(table, out.with_suffix('.png'))}")


if __name__ == "__main__":
    main()
