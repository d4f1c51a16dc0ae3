"""Review minutes per learned word: selection strategies against random, at review budgets.

    .venv/bin/python benchmarks/review_effort.py --project DIR [--scenarios brexit] \\
        [--strategies random term_focused entropy least_confidence] [--budgets 10 20 40 80] \\
        [--train] [--work /tmp/asrloop-review-effort] [--reuse] [--repeats 3] [--until-learned]
    .venv/bin/python benchmarks/review_effort.py --tables A.json B.json --plot review.png

``--project`` is a project whose champion (v1) is registered, e.g. one where ``make loop`` ran
(or ``asrloop loop`` was stopped after iteration 0); every run works on a copy (whose runs'
artifacts land, unreferenced, in the project's ``mlartifacts``). Per scenario, the copy
synthesizes the scenario's first drop, lets the champion serve it (``transcribe``, which writes
the CTC posteriors' entropy and margin beside the words) and monitors it. Then, for each
strategy and review budget (clips), triage ranks the review pool with
``triage.selection.strategy`` (a strategy may carry ``triage.selection`` settings:
``term_focused,explore_every=2``) and the simulated reviewer (``triage.reviewer``: each row costs
its audio plus 10 s) approves rows in rank order until the budget is spent.

Printed per strategy and budget: review minutes, approved clips that say each term, and
occurrences reviewed. With ``--train``, each budget also runs the loop's grow, vocabulary and
fine-tune (``grow`` -> ``vocab build`` -> ``train`` -> ``evaluate``, the real CLI) and prints
each term's recall on the drop's held-out audio and the regression WER: the quality those review
minutes bought. ``--repeats R`` runs every strategy and budget R times, repeat r > 0 with
another seed (another random order, another held-out half of the drop, another fine-tune): the
minutes until every term is learned come per repeat, with their median and its ratio to
random's. ``--first-repeat K`` numbers them from K (a later run adds repeats; ``--tables``
merges the runs). ``--until-learned`` stops a strategy's budgets (smallest first) at the first
that reaches ``--target`` (0.95) for every term. ``--train-seeds S ...`` measures the fine-tune's
own noise instead: each budget's review (the same clips) is fine-tuned once per training seed,
and the spread of each term's held-out recall is printed per strategy and budget: a difference
between strategies smaller than that spread says nothing. ``--set OVERRIDE ...`` gives every step
Hydra overrides, with its own served drop (``--set scenario.drop.size=560``: a held-out half with
twice the occurrences, so that recall 0.95 tolerates a miss where 280 clips hold 13 to 22). The
whole table is written as JSON (``--work``/review_effort.json), after every budget, so an
interrupted run keeps the rows it measured. ``--keep`` keeps each run's project, its fine-tuned
model included, under ``--work``/kept/SCENARIO/ (the row names it) to decode again with other
settings (``asrloop evaluate`` there, with the row's ``--set`` and repeat seed).
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
# ``--set``: Hydra overrides every step of every run gets (e.g. ``scenario.drop.size=560``)
OVERRIDES: list[str] = []
REPEAT_SEED = 5000  # repeat r > 0 runs with seed REPEAT_SEED + r


def step(root: Path, *args: str) -> float:
    return cli_step(root, *args, *OVERRIDES, *TRACKING)


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


def filename_safe(text: str) -> str:
    """``text`` with every character but letters, digits, ``-``, ``_`` and ``.`` as ``_``."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def served_name(scenario: str, overrides: list[str]) -> str:
    """The served snapshot's folder: one per scenario and set of ``--set`` overrides."""
    return f"{scenario}-served" + filename_safe("".join(f"-{o}" for o in overrides))


def settings_of(root: Path, scenario: str):
    from asrloop.config import compose
    from asrloop.settings import typed

    os.environ["ASRLOOP_ROOT"] = str(root)
    return typed(compose([f"scenario={scenario}", *OVERRIDES]))


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


def repeat_overrides(repeat: int) -> list[str]:
    """Repeat 0 runs the default seed; repeat r another one: another random review order (the
    triage seed) and another fine-tune (its seed), so a strategy's minutes come with a spread."""
    return [] if repeat == 0 else [f"seed={REPEAT_SEED + repeat}"]


def trained(root: Path, scenario: str, repeat: int = 0, train_seed: int | None = None) -> dict:
    """Grow, vocabulary, fine-tune and evaluate on the copy; the quality the review bought.
    ``train_seed`` changes the fine-tune's seed alone (the review and the grown data stay)."""
    args = [f"scenario={scenario}", "loop.commit=false", "grow.max_rounds=0", *EPOCH_BOUND]
    args += repeat_overrides(repeat)
    step(root, "grow", *args)
    step(root, "vocab", "build", *args)
    seed = [] if train_seed is None else [f"train.seed={train_seed}"]
    seconds = step(root, "train", "train.register=false", *args, *seed)
    step(root, "evaluate", *args)
    return {**scores(root), "train_seconds": round(seconds, 1)}


def selection_overrides(strategy: str) -> list[str]:
    """``name`` or ``name,key=value,...`` (keys of ``triage.selection``, e.g.
    ``term_focused,explore_every=2``) as Hydra overrides."""
    name, *settings = strategy.split(",")
    return [f"triage.selection.strategy={name}", *(f"triage.selection.{s}" for s in settings)]


def run_budget(
    snapshot: Path,
    work: Path,
    scenario: str,
    strategy: str,
    budget: int,
    train: bool,
    repeat: int = 0,
    train_seed: int | None = None,
    keep: bool = False,
) -> dict:
    root = work / "run"
    copy_project(snapshot, root)
    settings = settings_of(root, scenario)
    shutil.rmtree(root / "data" / "reviews" / settings.scenario.drop.name, ignore_errors=True)
    step(
        root,
        "triage",
        f"scenario={scenario}",
        *selection_overrides(strategy),
        f"triage.reviewer.budget_clips={budget}",
        f"triage.selection.size={max(budget, 100)}",
        *repeat_overrides(repeat),
    )
    row = {"strategy": strategy, "budget": budget, "repeat": repeat, **reviewed(root, scenario)}
    if OVERRIDES:
        row["overrides"] = list(OVERRIDES)
    if train_seed is not None:
        row["train_seed"] = train_seed
    if train:
        row.update(trained(root, scenario, repeat, train_seed))
    if keep:  # the run's project, fine-tuned model included, to decode again
        kept = work / "kept" / scenario / kept_name(row)
        shutil.rmtree(kept, ignore_errors=True)
        kept.parent.mkdir(parents=True, exist_ok=True)
        root.rename(kept)
        row["kept"] = str(kept)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return row


def kept_name(row: dict) -> str:
    """A kept run's folder: ``<strategy>-<budget>-r<repeat>[-seed<n>]``, filename-safe."""
    seed = f"-seed{row['train_seed']}" if row.get("train_seed") is not None else ""
    return filename_safe(f"{row['strategy']}-{row['budget']}-r{row['repeat']}{seed}")


def drop_terms(rows: list[dict]) -> list[str]:
    """The scenario's terms this drop says (a later drop may bring the others)."""
    said = {t for row in rows for t, n in row["occurrences"].items() if n}
    said |= {t for row in rows for t in row.get("recall", {})}
    return [t for t in rows[0]["occurrences"] if t in said]


def print_table(scenario: str, rows: list[dict]) -> None:
    terms = drop_terms(rows)
    print(f"\n{scenario}: review minutes, approved clips saying each term (occurrences)")
    head = f"  {'strategy':<30}{'repeat':>7}{'budget':>7}{'minutes':>9}  " + "  ".join(terms)
    if "recall" in rows[0]:
        head += "   recall " + " ".join(terms) + "   regression WER"
    print(head)
    for row in rows:
        cells = "  ".join(f"{row['clips_with_term'][t]} ({row['occurrences'][t]})" for t in terms)
        repeat = row.get("repeat", 0)
        line = (
            f"  {row['strategy']:<30}{repeat:>7}{row['budget']:>7}{row['minutes']:>9.1f}  {cells}"
        )
        if "recall" in row:
            recall = " ".join(recall_text(row, t) for t in terms)
            line += f"   {recall}   {row['regression_wer']:.4f}"
        print(line, flush=True)


def recall_text(row: dict, term: str) -> str:
    """A term's held-out recall, with hits of occurrences where the row has them: at 13
    occurrences one miss is 0.92, so 0.95 needs every one."""
    recall = row["recall"].get(term, 0.0)
    support = row.get("support", {}).get(term)
    return f"{recall:.2f}" + (f" ({round(recall * support)}/{support})" if support else "")


def mean_over_repeats(rows: list[dict]) -> list[dict]:
    """One row per budget: minutes, term clips and recall averaged over the repeats."""
    import statistics

    by_budget: dict[int, list[dict]] = {}
    for row in rows:
        by_budget.setdefault(row["budget"], []).append(row)
    means = []
    for budget, group in sorted(by_budget.items()):
        terms = group[0]["clips_with_term"]
        mean = {
            "budget": budget,
            "minutes": statistics.mean(r["minutes"] for r in group),
            "clips_with_term": {
                t: statistics.mean(r["clips_with_term"][t] for r in group) for t in terms
            },
        }
        if all("recall" in r for r in group):
            recall_terms = group[0]["recall"]
            mean["recall"] = {
                t: statistics.mean(r["recall"].get(t, 0.0) for r in group) for t in recall_terms
            }
        means.append(mean)
    return means


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
            rows = mean_over_repeats([r for r in table[scenario] if r["strategy"] == strategy])
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


def minutes_over_repeats(rows: list[dict], target: float = 0.95) -> dict[str, list[dict]]:
    """Per strategy, one entry per repeat (a row without ``repeat`` is repeat 0): the minutes
    of :func:`minutes_to_learn` (``reached``), or, where no budget run got there, the most
    minutes that repeat spent: a lower bound (``reached`` False)."""
    found: dict[str, list[dict]] = {}
    for repeat in sorted({row.get("repeat", 0) for row in rows}):
        runs = [row for row in rows if row.get("repeat", 0) == repeat]
        for strategy, hit in minutes_to_learn(runs, target).items():
            if hit is None:
                spent = max(r["minutes"] for r in runs if r["strategy"] == strategy)
                hit = {"minutes": spent, "regression_wer": None, "reached": False}
            found.setdefault(strategy, []).append({"reached": True, **hit})
    return found


def median_minutes(hits: list[dict]) -> tuple[float, bool]:
    """The median of the repeats' minutes, and whether it is exact (False: a lower bound, some
    repeat never got there within its budgets)."""
    import statistics

    return statistics.median(h["minutes"] for h in hits), all(h["reached"] for h in hits)


def ratio_text(median: float, exact: bool, baseline: float, baseline_exact: bool) -> str:
    """The strategy's median over random's, with its direction when either is a bound."""
    ratio = median / baseline
    if exact and baseline_exact:
        return f"{ratio:.2f} x random's median"
    if exact:
        return f"at most {ratio:.2f} x random's median (random's is a lower bound)"
    if baseline_exact:
        return f"at least {ratio:.2f} x random's median"
    return "both lower bounds"


def print_minutes_to_learn(scenario: str, rows: list[dict], target: float = 0.95) -> None:
    found = minutes_over_repeats(rows, target)
    print(f"{scenario}: review minutes until every term reaches recall {target} (held-out audio)")
    baseline = median_minutes(found["random"]) if "random" in found else None
    for strategy, hits in found.items():
        each = ", ".join(
            f"{h['minutes']:.1f}" if h["reached"] else f">{h['minutes']:.1f}" for h in hits
        )
        wers = ", ".join(f"{h['regression_wer']:.4f}" for h in hits if h["reached"])
        median, exact = median_minutes(hits)
        ratio = ""
        if baseline and strategy != "random":
            ratio = f" ({ratio_text(median, exact, *baseline)})"
        print(
            f"  {strategy:<30} median {'' if exact else '>='}{median:.1f} min{ratio}; "
            f"repeats {each}; regression WER where reached {wers or '-'}"
        )


def review_key(row: dict) -> tuple:
    """Which review a row's fine-tune learned from: strategy, budget and repeat."""
    return row["strategy"], row["budget"], row.get("repeat", 0)


def print_fine_tune_spread(scenario: str, rows: list[dict]) -> None:
    """Per strategy, budget and repeat: each term's held-out recall over the training seeds
    (the same reviewed clips each time; the repeat's own seed first where it ran), its range
    and standard deviation."""
    import statistics

    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(review_key(row), []).append(row)
    print(f"{scenario}: held-out recall over fine-tune seeds (the same review each time)")
    for (strategy, budget, repeat), group in groups.items():
        for term in group[0]["recall"]:
            recall = [r["recall"][term] for r in group]
            spread = statistics.stdev(recall) if len(recall) > 1 else 0.0
            each = ", ".join(f"{x:.3f}" for x in recall)
            wer = ", ".join(f"{r['regression_wer']:.4f}" for r in group)
            print(
                f"  {strategy:<30} budget {budget:>3} repeat {repeat} '{term}': {each} "
                f"(range {max(recall) - min(recall):.3f}, sd {spread:.3f}); regression WER {wer}"
            )


def report_tables(paths: list[Path], plot_path: Path, target: float = 0.95) -> None:
    """Tables of earlier runs, merged by scenario (rows of one budget, strategy, repeat and
    training seed from a later file replace an earlier file's), printed and plotted. Rows of a
    ``--train-seeds`` run print as the fine-tune's spread, apart from the minutes to learn."""
    merged: dict[str, dict[tuple, dict]] = {}
    for path in paths:
        for scenario, rows in json.loads(path.read_text()).items():
            for row in rows:
                key = (*review_key(row), row.get("train_seed"))
                merged.setdefault(scenario, {})[key] = row
    table = {
        scenario: sorted(
            rows.values(),
            key=lambda r: (
                r.get("repeat", 0),
                r["strategy"] != "random",
                r["strategy"],
                r["budget"],
            ),
        )
        for scenario, rows in merged.items()
    }
    reviews: dict[str, list[dict]] = {}  # rows of a review's own fine-tune, no --train-seeds
    for scenario, rows in table.items():
        print_table(scenario, rows)
        seeded = [row for row in rows if "train_seed" in row]
        review = [row for row in rows if "train_seed" not in row]
        if seeded:  # with the same review fine-tuned under the repeat's own seed, where run
            runs = {review_key(row) for row in seeded}
            print_fine_tune_spread(scenario, [r for r in review if review_key(r) in runs] + seeded)
        if review and all("recall" in row for row in review):
            print_minutes_to_learn(scenario, review, target)
        if review:
            reviews[scenario] = review
    print(f"plot: {plot(reviews, plot_path)}")


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
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep each run's project under WORK/kept/SCENARIO/ (about 2 GB each), to decode "
        "it again (e.g. `asrloop evaluate` with other decode settings)",
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="OVERRIDE",
        help="Hydra overrides for every step (e.g. scenario.drop.size=560: a held-out half large "
        "enough to resolve the target); its own served drop, recorded in each row",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs per strategy and budget, each with another seed (review order and fine-tune)",
    )
    parser.add_argument(
        "--first-repeat",
        type=int,
        default=0,
        help="number the repeats from here (more repeats later; --tables merges the runs)",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=0.95,
        help="the held-out recall every term must reach to count as learned",
    )
    parser.add_argument(
        "--train-seeds",
        type=int,
        nargs="+",
        help="with --train: fine-tune each budget's review once per seed (the fine-tune's noise)",
    )
    parser.add_argument(
        "--until-learned",
        action="store_true",
        help="with --train: stop a strategy's budgets once every term reaches --target",
    )
    args = parser.parse_args()
    if args.tables:
        report_tables(args.tables, args.plot or Path("review_effort.png"), args.target)
        return
    if args.project is None:
        parser.error("--project is required (or --tables)")
    if args.train_seeds and not args.train:
        parser.error("--train-seeds measures the fine-tune: add --train")
    from asrloop.jsonio import write_json
    from asrloop.machine import describe, machine_record

    print(f"machine: {describe(machine_record())}")
    TRACKING.append(f"tracking.artifact_root={args.project.resolve() / 'mlartifacts'}")
    OVERRIDES.extend(args.set)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    table: dict[str, list[dict]] = {}
    out = work / f"review_effort{'_trained' if args.train else ''}"
    for scenario in args.scenarios:
        snapshot = work / served_name(scenario, args.set)
        if not (args.reuse and snapshot.exists()):
            served_drop(args.project.resolve(), scenario, snapshot)
        rows = table[scenario] = []
        for repeat in range(args.first_repeat, args.first_repeat + args.repeats):
            for strategy in args.strategies:
                for budget in sorted(args.budgets):
                    runs = []
                    for seed in args.train_seeds or [None]:
                        row = run_budget(
                            snapshot,
                            work,
                            scenario,
                            strategy,
                            budget,
                            args.train,
                            repeat,
                            seed,
                            args.keep,
                        )
                        runs.append(row)
                        print(json.dumps(row), flush=True)
                    rows += runs
                    # after every budget, atomically: a killed run keeps its rows
                    write_json(out.with_suffix(".json"), table)
                    if args.until_learned and all(
                        minutes_to_learn([run], args.target)[strategy] for run in runs
                    ):
                        break  # every term learned under every seed: larger budgets cost time
        print_table(scenario, rows)
        if args.train and args.train_seeds:
            print_fine_tune_spread(scenario, rows)
        elif args.train:
            print_minutes_to_learn(scenario, rows, args.target)
    write_json(out.with_suffix(".json"), table)
    print(f"table: {out.with_suffix('.json')}, plot: {plot(table, out.with_suffix('.png'))}")


if __name__ == "__main__":
    main()
