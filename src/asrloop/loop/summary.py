"""The loop's before/after summary: ``reports/loop/summary.json`` and a terminal table."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from asrloop.artifacts import Layout, ModelOutput, vocab_version
from asrloop.checks.report import CheckReport
from asrloop.faults import fault_point
from asrloop.machine import describe
from asrloop.progress import console
from asrloop.records import (
    EvaluationReport,
    GateDecision,
    IterationRecord,
    LoopSummary,
    TrainingResult,
)


def _term_audio(results: dict) -> list:
    """The sets a term's false alarms are counted on: held-out drops and the regression set."""
    return [results[name] for name in ("drop_holdout", "regression") if name in results]


def term_precision(results: dict) -> dict[str, float]:
    """Each term's precision over the held-out drops and the regression set together (a term
    written where it was not said is a false alarm); 1.0 when it was never written."""
    sets = _term_audio(results)
    out = {}
    for term in sets[0].terms:
        tp = sum(s.terms[term].tp for s in sets if term in s.terms)
        fp = sum(s.terms[term].fp for s in sets if term in s.terms)
        out[term] = tp / (tp + fp) if tp + fp else 1.0
    return out


def false_alarm_rate(results: dict) -> float | None:
    """Share of term-free clips (held-out drops and regression set) with a term written."""
    sets = _term_audio(results)
    free = sum(s.term_free_clips for s in sets)
    return sum(s.false_alarm_clips for s in sets) / free if free else None


def _checks_summary(report: CheckReport | None) -> dict:
    if report is None:
        return {}
    return {
        "passed": report.passed,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "failed_checks": report.failed_checks(),
    }


def fill_from_reports(
    record: IterationRecord, layout: Layout, training_output: ModelOutput, model_version: str
) -> None:
    """Fill an iteration's numbers from the records its steps wrote (absent ones stay unset):
    the training result, the vocabulary version, evaluation, data checks and the gate."""
    record.model_version = model_version
    training = TrainingResult.load_if_exists(training_output.result)
    record.run_id = training.run_id if training else ""
    version = vocab_version(layout.vocab)
    if version is not None:
        record.vocab_version = version
    evaluation = EvaluationReport.load_if_exists(layout.eval_report())
    results = evaluation.results if evaluation else {}
    if "test" in results:
        record.test_wer, record.test_cer = results["test"].wer, results["test"].cer
    if "test_neural" in results:
        record.neural_test_wer = results["test_neural"].wer
    if "real_speech" in results:
        record.real_speech_wer = results["real_speech"].wer
    test = results.get("test")
    if test is not None and test.word_ece is not None:
        record.word_confidence = {"ece": test.word_ece, "auroc": test.word_auroc}
    record.wer_intervals = {
        name: [r.wer_interval.low, r.wer_interval.high]
        for name, r in results.items()
        if r.wer_interval is not None
    }
    if "regression" in results:
        record.regression_wer = results["regression"].wer
    if "drop_holdout" in results:
        held = results["drop_holdout"]
        record.heldout_drop_wer = held.wer
        record.term_recall = {t: s.recall for t, s in held.terms.items() if s.support}
        record.recall_intervals = {
            t: [s.recall_interval.low, s.recall_interval.high]
            for t, s in held.terms.items()
            if s.recall_interval is not None
        }
        record.term_precision = term_precision(results)
        record.heldout_b_wer = held.b_wer if held.b_words else None
        record.heldout_u_wer = held.u_wer
    record.false_alarm_rate = false_alarm_rate(results)
    data_checks = layout.checks_report("data")
    record.data_checks = _checks_summary(
        CheckReport.load(data_checks) if data_checks.exists() else None
    )
    gate = GateDecision.load_if_exists(layout.gate_record(model_version))
    if gate is not None and gate.model_checks:
        record.model_checks = _checks_summary(CheckReport.from_dict(gate.model_checks))
    if gate is not None:
        record.term_status = {t: asdict(s) for t, s in gate.term_status.items()}
        record.gate_clauses = {
            c.name: {
                "outcome": c.outcome,
                "estimate": c.interval.estimate,
                "low": c.interval.low,
                "high": c.interval.high,
                "limit": c.limit,
            }
            for c in gate.clauses
            if c.interval is not None
        }


def write_summary(
    path: Path,
    scenario: str,
    terms: list[str],
    records: list[IterationRecord],
    final: dict,
    total_seconds: float,
    loop_run_id: str,
    machine: dict | None = None,
) -> LoopSummary:
    summary = LoopSummary(
        scenario=scenario,
        terms=list(terms),
        loop_run_id=loop_run_id,
        iterations=tuple(records),
        final=final,
        total_seconds=round(total_seconds, 1),
        machine=machine or {},
    )
    fault_point("loop.before_summary")
    summary.write(path)
    return summary


def _fmt(value, pattern="{:.3f}") -> str:
    return "-" if value is None else pattern.format(value)


def _with_interval(value: float | None, interval: list[float] | None) -> str:
    if value is None or not interval:
        return _fmt(value)
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def _clause(record: IterationRecord, name: str) -> str:
    clause = record.gate_clauses.get(name)
    if not clause:
        return "-"
    return (
        f"{clause['outcome']}: {clause['estimate']:+.4f} "
        f"[{clause['low']:+.4f}, {clause['high']:+.4f}] (limit {clause['limit']:+.4f})"
    )


def summary_rows(summary: LoopSummary) -> list[tuple[str, list[str]]]:
    """The before/after table: one row per measure, one column per iteration."""
    its = summary.iterations

    def checks(report: dict) -> str:
        if not report:
            return "-"
        return "pass" if report.get("passed") else f"fail ({', '.join(report['failed_checks'])})"

    rows = [
        ("corpus version", [r.corpus_version for r in its]),
        ("vocabulary", [r.vocab_version[:10] for r in its]),
        ("model version", [f"v{r.model_version}" for r in its]),
        ("MLflow run", [r.run_id[:10] for r in its]),
        ("test WER [95 %]", [_with_interval(r.test_wer, r.wer_intervals.get("test")) for r in its]),
        ("test CER", [_fmt(r.test_cer) for r in its]),
        (
            "test WER, neural voice [95 %]",
            [_with_interval(r.neural_test_wer, r.wer_intervals.get("test_neural")) for r in its],
        ),
        (
            "real speech WER (3 clips) [95 %]",
            [_with_interval(r.real_speech_wer, r.wer_intervals.get("real_speech")) for r in its],
        ),
        (
            "word confidence on test: ECE / AUROC",
            [
                f"{r.word_confidence['ece']:.3f} / {r.word_confidence['auroc']:.3f}"
                if r.word_confidence
                else "-"
                for r in its
            ],
        ),
        (
            "regression WER [95 %]",
            [_with_interval(r.regression_wer, r.wer_intervals.get("regression")) for r in its],
        ),
        (
            "held-out drop WER [95 %]",
            [_with_interval(r.heldout_drop_wer, r.wer_intervals.get("drop_holdout")) for r in its],
        ),
    ]
    rows += [
        (
            "held-out B-WER / U-WER (terms' words / the rest)",
            [f"{_fmt(r.heldout_b_wer)} / {_fmt(r.heldout_u_wer)}" for r in its],
        ),
        ("false alarms on term-free clips", [_fmt(r.false_alarm_rate) for r in its]),
    ]
    if any(r.review for r in its):
        rows.append(("review: rows decided / minutes (strategy)", [_review(r.review) for r in its]))
    if any(r.b_wer_at_update is not None for r in its):
        rows.append(("B-WER at vocabulary update", [_fmt(r.b_wer_at_update) for r in its]))
    for t in summary.terms:
        at_update = [_fmt(r.recall_at_update.get(t)) for r in its]
        if any(v != "-" for v in at_update):
            rows.append((f"recall '{t}' at vocabulary update (champion, no training)", at_update))
        grown = [_rounds(r.validation_recall, t) for r in its]
        if any(v != "-" for v in grown):
            rows.append((f"recall '{t}' on validation clips (fine-tune -> rounds)", grown))
        probed = [_rounds(r.probe_false_alarms, t, "{:d}") for r in its]
        if any(v != "-" for v in probed):
            rows.append(
                (f"false alarms '{t}' on the look-alike probe (fine-tune -> rounds)", probed)
            )
        recall = [_with_interval(r.term_recall.get(t), r.recall_intervals.get(t)) for r in its]
        rows.append((f"recall '{t}' (held-out drops)", recall))
        rows.append((f"precision '{t}'", [_fmt(r.term_precision.get(t)) for r in its]))
        status = [r.term_status.get(t, {}).get("status", "-") for r in its]
        if any(s != "-" for s in status):
            rows.append((f"'{t}' (gate)", status))
    rows += [
        ("data checks", [checks(r.data_checks) for r in its]),
        ("model checks", [checks(r.model_checks) for r in its]),
        ("gate: vs champion", [_clause(r, "regression.vs_champion") for r in its]),
        ("promoted", ["yes" if r.promoted else "no" for r in its]),
        ("gate", [r.gate_reason for r in its]),
        ("wall time", [f"{sum(r.step_seconds.values()):.0f} s" for r in its]),
    ]
    return rows


def _review(review: dict) -> str:
    if not review:
        return "-"
    return f"{review['decided']} / {review['minutes']:.1f} min ({review['strategy']})"


def _rounds(measures: list[dict], term: str, pattern: str = "{:.3f}") -> str:
    """A term's measure (validation recall, probe false alarms) after the fine-tune and after
    each growth round."""
    values = [_fmt(m[term], pattern) for m in measures if term in m]
    return " -> ".join(values) if values else "-"


def print_summary(summary: LoopSummary) -> None:
    from rich.table import Table

    table = Table(
        title=f"asrloop: scenario '{summary.scenario}', total {summary.total_seconds:.0f} s"
    )
    table.add_column("")
    for r in summary.iterations:
        table.add_column(f"iteration {r.iteration}", overflow="fold", max_width=48)
    for name, values in summary_rows(summary):
        table.add_row(name, *values)
    console.print(table)
    final = summary.final
    status = final.get("term_status", {})
    recalls = ", ".join(
        f"'{t}' {v:.2f}" + (f" ({status[t]})" if t in status else "")
        for t, v in final.get("term_recall", {}).items()
    )
    console.print(
        f"champion v{final.get('champion_version')} on held-out drop audio: "
        f"WER {_fmt(final.get('heldout_wer'))}, B-WER {_fmt(final.get('heldout_b_wer'))}, "
        f"U-WER {_fmt(final.get('heldout_u_wer'))}, recall {recalls}"
    )
    open_terms = [t for t, s in status.items() if s != "learned"]
    if open_terms:
        console.print(
            f"[yellow]not learned yet: {', '.join(open_terms)}: they stay on the watch list "
            "for the next drop[/]"
        )
    for r in summary.iterations:
        steps = ", ".join(f"{k} {v:.0f}s" for k, v in r.step_seconds.items())
        console.print(f"iteration {r.iteration} steps: {steps}")
    if summary.machine:
        load = " / ".join(f"{x:.2f}" for x in summary.machine.get("load_at_start", []))
        console.print(f"measured on: {describe(summary.machine)}; load before the loop {load}")
