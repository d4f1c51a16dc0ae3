"""Balance: rows and hours per split and per voice, with warnings past configured ratios."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict

from asrloop.checks.corpus import Clip, CorpusUnderTest
from asrloop.checks.report import Finding, findings_if


def _tally(clips: Iterable[Clip], key: str) -> dict[str, dict]:
    counts: dict[str, dict] = defaultdict(lambda: {"rows": 0, "hours": 0.0})
    for clip in clips:
        entry = counts[str(getattr(clip.row, key))]
        entry["rows"] += 1
        entry["hours"] += clip.row.duration / 3600
    return {
        name: {"rows": c["rows"], "hours": round(c["hours"], 4)}
        for name, c in sorted(counts.items())
    }


def check_split_balance(corpus: CorpusUnderTest) -> list[Finding]:
    splits = _tally(corpus.clips, "split")
    corpus.summary["splits"] = splits
    minimum = asdict(corpus.settings.min_split_rows)
    bad = [
        f"{name}: {splits.get(name, {}).get('rows', 0)} rows (minimum {least})"
        for name, least in minimum.items()
        if splits.get(name, {}).get("rows", 0) < least
    ]
    return findings_if(
        "balance.split", "warning", "{n} splits have fewer rows than configured", bad
    )


def check_voice_balance(corpus: CorpusUnderTest) -> list[Finding]:
    corpus.summary["voices"] = _tally(corpus.clips, "voice")
    train = _tally(corpus.split("train"), "voice")
    corpus.summary["train_voices"] = train
    ratio = corpus.settings.max_voice_ratio
    bad = [f"{voice}: no train rows" for voice in corpus.rules.train_voices if voice not in train]
    for unit in ("rows", "hours"):
        values = {voice: c[unit] for voice, c in train.items()}
        if len(values) > 1 and min(values.values()) > 0:
            most, least = max(values, key=values.get), min(values, key=values.get)
            if values[most] / values[least] > ratio:
                bad.append(
                    f"{unit}: {most} has {values[most] / values[least]:.1f}x "
                    f"{least} ({values[most]:g} against {values[least]:g})"
                )
    return findings_if(
        "balance.voice", "warning", f"train voices are unbalanced (more than {ratio:g}x apart)", bad
    )


def balance_table(summary: Mapping):
    """Rows and hours per split and per voice, as a rich table."""
    from rich.table import Table

    table = Table(title=f"corpus: {summary.get('rows', 0)} rows, {summary.get('hours', 0):.2f} h")
    for column in ("split / voice", "rows", "hours"):
        table.add_column(column, justify="left" if column.startswith("split") else "right")
    for group in ("splits", "voices"):
        for name, counts in summary.get(group, {}).items():
            table.add_row(name, str(counts["rows"]), f"{counts['hours']:.3f}")
        table.add_section()
    return table
