"""Findings and reports shared by the data checks and the model checks.

A :class:`Finding` is one failed check: its name, a severity (``error`` blocks training, growth
and promotion; ``warning`` does not), a message and the offending rows (``manifest:line id`` or
clip ids). A :class:`CheckReport` collects findings plus summary numbers, prints a table, and
round-trips through JSON so the loop can read it back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from asrloop.artifacts import checks_artifact
from asrloop.errors import ChecksFailed

Severity = Literal["error", "warning"]
SEVERITIES = ("error", "warning")
SHOWN_ROWS = 3  # rows named per finding in the terminal table (the JSON has them all)


@dataclass
class Finding:
    check: str
    severity: Severity
    message: str
    rows: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")


def findings_if(check: str, severity: Severity, message: str, rows: Iterable[str]) -> list[Finding]:
    """``[Finding]`` naming ``rows`` (``{n}`` in the message becomes their count), or ``[]``."""
    rows = list(rows)
    return [Finding(check, severity, message.format(n=len(rows)), rows)] if rows else []


@dataclass
class CheckReport:
    """The outcome of one suite (``data`` or ``model``): findings, the checks run, numbers."""

    suite: str
    findings: list[Finding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, check: str, findings: Iterable[Finding] = ()) -> None:
        """Record that ``check`` ran, with what it found."""
        if check not in self.checks:
            self.checks.append(check)
        self.findings.extend(findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def failed_checks(self, severity: Severity = "error") -> list[str]:
        return sorted({f.check for f in self.findings if f.severity == severity})

    def raise_if_failed(self, path: Path, what: str, consequence: str = "") -> None:
        """Raise ``ChecksFailed`` naming the failed checks and the report at ``path``."""
        if not self.passed:
            message = f"{what} failed ({', '.join(self.failed_checks())}): see {path}"
            raise ChecksFailed(message + (f"; {consequence}" if consequence else ""))

    def headline(self) -> str:
        """One line for logs and the loop summary."""
        state = "passed" if self.passed else "FAILED"
        return (
            f"{self.suite} checks {state}: {len(self.checks)} checks, "
            f"{len(self.errors)} errors, {len(self.warnings)} warnings ({self.seconds:.1f} s)"
        )

    def to_dict(self) -> dict:
        return {
            "suite": self.suite,
            "passed": self.passed,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "seconds": round(self.seconds, 3),
            "checks": self.checks,
            "findings": [asdict(f) for f in self.findings],
            "summary": self.summary,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, default=str)

    @classmethod
    def from_dict(cls, data: dict) -> CheckReport:
        return cls(
            data["suite"],
            [Finding(**f) for f in data["findings"]],
            list(data["checks"]),
            dict(data.get("summary", {})),
            float(data.get("seconds", 0.0)),
        )

    @classmethod
    def load(cls, path: str | Path) -> CheckReport:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    def table(self):
        """A rich table: each check in the order run, with its findings or ``ok``."""
        from rich.table import Table

        table = Table(title=self.headline())
        table.add_column("check", no_wrap=True)
        table.add_column("result", no_wrap=True)
        table.add_column("message", overflow="fold")
        table.add_column("rows", overflow="fold")
        for check in self.checks:
            found = [f for f in self.findings if f.check == check]
            for f in sorted(found, key=lambda f: f.severity != "error"):
                colour = "red" if f.severity == "error" else "yellow"
                table.add_row(check, f"[{colour}]{f.severity}[/]", f.message, _shown(f.rows))
            if not found:
                table.add_row(check, "[green]ok[/]", "", "")
        return table

    def print(self, console=None) -> None:
        if console is None:
            from asrloop.progress import console
        console.print(self.table())

    def log_mlflow(self, mlflow) -> None:
        """Metrics, a pass/fail tag and the JSON artifact, in the active MLflow run."""
        prefix = f"checks_{self.suite}"
        mlflow.log_metrics(
            {
                f"{prefix}_errors": len(self.errors),
                f"{prefix}_warnings": len(self.warnings),
                f"{prefix}_seconds": self.seconds,
            }
        )
        mlflow.set_tag(f"{prefix}_passed", str(self.passed).lower())
        mlflow.log_dict(self.to_dict(), checks_artifact(self.suite))


def _shown(rows: list[str]) -> str:
    shown = "\n".join(rows[:SHOWN_ROWS])
    if len(rows) > SHOWN_ROWS:
        shown += f"\n... {len(rows) - SHOWN_ROWS} more"
    return shown
