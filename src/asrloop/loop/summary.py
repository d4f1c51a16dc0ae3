"""The loop's before/after summary: ``reports/loop/summary.json`` and a terminal table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from asrloop.checks.report import CheckReport
from asrloop.faults import fault_point
from asrloop.jsonio import write_json
from asrloop.progress import console
from asrloop.records import EvaluationReport, GateDecision, TrainingResult

SCHEMA = "asrloop.loop_summary/1"


def term_precision(results: dict) -> dict[str, float]:
    """Each term's precision over the held-out drops and the regression set together (a term
    written where it was not said is a false alarm); 1.0 when it was never written."""
    sets = [results[name] for name in ("drop_holdout", "regression") if name in results]
    out = {}
    for term in sets[0].terms:
        tp = sum(s.terms[term].tp for s in sets if term in s.terms)
        fp = sum(s.terms[term].fp for s in sets if term in s.terms)
        out[term] = tp / (tp + fp) if tp + fp else 1.0
    return out


def _checks_summary(report: CheckReport | None) -> dict:
    if report is None:
        return {}
    return {
        "passed": report.passed,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "failed_checks": report.failed_checks(),
    }


@dataclass(frozen=True)
class ReportPaths:
    """Where an iteration's records are: the training output, vocabulary and reports folders."""

    train_output: Path
    vocab: Path
    reports: Path


@dataclass
class IterationRecord:
    iteration: int
    corpus_version: str = ""
    vocab_version: str = ""
    model_version: str = ""
    run_id: str = ""
    test_wer: float | None = None
    test_cer: float | None = None
    regression_wer: float | None = None
    heldout_drop_wer: float | None = None
    term_recall: dict[str, float] = field(default_factory=dict)
    term_precision: dict[str, float] = field(default_factory=dict)  # held-out drops + regression
    promoted: bool = False
    gate_reason: str = ""
    new_words: list[str] = field(default_factory=list)
    data_checks: dict = field(default_factory=dict)
    model_checks: dict = field(default_factory=dict)
    step_seconds: dict[str, float] = field(default_factory=dict)

    def fill_from_reports(self, paths: ReportPaths, model_version: str) -> None:
        self.model_version = model_version
        training = TrainingResult.load_if_exists(paths.train_output / "result.json")
        self.run_id = training.run_id if training else ""
        version_file = paths.vocab / "version.json"
        if version_file.exists():
            self.vocab_version = json.loads(version_file.read_text())["vocab_version"]
        evaluation = EvaluationReport.load_if_exists(paths.reports / "eval" / "metrics.json")
        results = evaluation.results if evaluation else {}
        if "test" in results:
            self.test_wer, self.test_cer = results["test"].wer, results["test"].cer
        if "regression" in results:
            self.regression_wer = results["regression"].wer
        if "drop_holdout" in results:
            held = results["drop_holdout"]
            self.heldout_drop_wer = held.wer
            self.term_recall = {t: s.recall for t, s in held.terms.items() if s.support}
            self.term_precision = term_precision(results)
        data_checks = paths.reports / "checks" / "data.json"
        self.data_checks = _checks_summary(
            CheckReport.load(data_checks) if data_checks.exists() else None
        )
        gate = GateDecision.load_if_exists(paths.reports / "gate" / f"v{model_version}.json")
        if gate is not None and gate.model_checks:
            self.model_checks = _checks_summary(CheckReport.from_dict(gate.model_checks))


def write_summary(
    path: Path,
    scenario: str,
    terms: list[str],
    records: list[IterationRecord],
    final: dict,
    total_seconds: float,
    loop_run_id: str,
) -> dict:
    summary = {
        "schema": SCHEMA,
        "scenario": scenario,
        "terms": terms,
        "loop_run_id": loop_run_id,
        "iterations": [asdict(r) for r in records],
        "final": final,
        "total_seconds": round(total_seconds, 1),
    }
    fault_point("loop.before_summary")
    write_json(path, summary)
    return summary


def _fmt(value, pattern="{:.3f}") -> str:
    return "-" if value is None else pattern.format(value)


def summary_rows(summary: dict) -> list[tuple[str, list[str]]]:
    """The before/after table: one row per measure, one column per iteration."""
    its = summary["iterations"]

    def checks(report: dict) -> str:
        if not report:
            return "-"
        return "pass" if report.get("passed") else f"fail ({', '.join(report['failed_checks'])})"

    rows = [
        ("corpus version", [r["corpus_version"] for r in its]),
        ("vocabulary", [r["vocab_version"][:10] for r in its]),
        ("model version", [f"v{r['model_version']}" for r in its]),
        ("MLflow run", [r["run_id"][:10] for r in its]),
        ("test WER", [_fmt(r["test_wer"]) for r in its]),
        ("test CER", [_fmt(r["test_cer"]) for r in its]),
        ("regression WER", [_fmt(r["regression_wer"]) for r in its]),
        ("held-out drop WER", [_fmt(r["heldout_drop_wer"]) for r in its]),
    ]
    for t in summary["terms"]:
        rows.append(
            (f"recall '{t}' (held-out drops)", [_fmt(r["term_recall"].get(t)) for r in its])
        )
        rows.append((f"precision '{t}'", [_fmt(r.get("term_precision", {}).get(t)) for r in its]))
    rows += [
        ("data checks", [checks(r["data_checks"]) for r in its]),
        ("model checks", [checks(r["model_checks"]) for r in its]),
        ("promoted", ["yes" if r["promoted"] else "no" for r in its]),
        ("gate", [r["gate_reason"] for r in its]),
        ("wall time", [f"{sum(r['step_seconds'].values()):.0f} s" for r in its]),
    ]
    return rows


def print_summary(summary: dict) -> None:
    from rich.table import Table

    table = Table(
        title=f"asrloop: scenario '{summary['scenario']}', total {summary['total_seconds']:.0f} s"
    )
    table.add_column("")
    for r in summary["iterations"]:
        table.add_column(f"iteration {r['iteration']}", overflow="fold", max_width=48)
    for name, values in summary_rows(summary):
        table.add_row(name, *values)
    console.print(table)
    final = summary["final"]
    recalls = ", ".join(f"'{t}' {v:.2f}" for t, v in final.get("term_recall", {}).items())
    console.print(
        f"champion v{final.get('champion_version')} on held-out drop audio: "
        f"WER {_fmt(final.get('heldout_wer'))}, recall {recalls}"
    )
    for r in summary["iterations"]:
        steps = ", ".join(f"{k} {v:.0f}s" for k, v in r["step_seconds"].items())
        console.print(f"iteration {r['iteration']} steps: {steps}")
