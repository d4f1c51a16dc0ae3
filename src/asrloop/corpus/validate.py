"""``asrloop data validate``: row-level checks of every manifest row under ``paths.corpus``.

Each row's file must exist and decode as 16 kHz mono, its duration must match the manifest and
its text must be non-empty and in the alphabet. A bad row is reported by file and reason and
listed in ``reports/validate/excluded.txt``; training skips such rows, the rest goes on.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from asrloop.checks.corpus import CorpusRules
from asrloop.checks.data import check_corpus
from asrloop.progress import console

ROW_CHECKS = ("audio.decode", "audio.format", "audio.duration", "labels.empty", "labels.alphabet")


def validate(corpus_root: Path, rules: CorpusRules, out: Path) -> list[str]:
    """The excluded rows, each as ``<manifest>:<line> <clip>: <reason>``; listed in ``out``."""
    report = check_corpus(corpus_root, rules, only=ROW_CHECKS)
    report.print(console)
    excluded = [row for finding in report.findings for row in finding.rows]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{row}\n" for row in excluded))
    total = report.summary.get("rows", 0)
    console.print(f"{total - len(set(excluded))} of {total} rows valid; excluded rows: {out}")
    return excluded


def run(cfg: DictConfig) -> list[str]:
    return validate(
        Path(cfg.paths.corpus),
        CorpusRules.from_config(cfg.checks.data, cfg.features, cfg.corpus, cfg.scenario.terms),
        Path(cfg.paths.reports) / "validate" / "excluded.txt",
    )
