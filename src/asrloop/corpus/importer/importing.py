"""Import a corpus (``asrloop corpus import``): read it, plan, write shards into a folder.

Prints and records (``import_report.json`` beside the shards, versioned with the corpus) what
happened: clips and hours, how many were resampled (per original rate) and down-mixed, every
excluded row with its file, row and reason, and how the splits were made.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from asrloop.artifacts import IMPORT_REPORT, MANIFEST
from asrloop.audio.io import SAMPLE_RATE
from asrloop.corpus import ownership
from asrloop.corpus.importer import detect_format, reader
from asrloop.corpus.importer.clip import ReaderOptions
from asrloop.corpus.importer.import_plan import plan_import
from asrloop.corpus.importer.shard_writer import shard_exclusions, write_shards
from asrloop.corpus.importer.splits import SplitRules
from asrloop.corpus.manifest import read_manifest
from asrloop.errors import ConfigError
from asrloop.execution import LOCAL, Executor
from asrloop.progress import console, progress_bar
from asrloop.records import JsonRecord
from asrloop.settings.corpus import CorpusSettings

STEP = "corpus import"


@dataclass(frozen=True)
class ImportSettings:
    """``corpus.importer`` plus the corpus's alphabet, language and shard size."""

    format: str
    path: Path
    options: ReaderOptions
    rules: SplitRules
    alphabet: str
    language: str
    shard_size: int

    @classmethod
    def of(cls, corpus: CorpusSettings) -> ImportSettings:
        """From ``corpus`` (its ``importer`` section); the corpus path must exist."""
        importer = corpus.importer
        if not importer.path:
            raise ConfigError("corpus.importer.path: name the corpus to import (a folder or file)")
        path = Path(importer.path).expanduser().resolve()
        if not path.exists():
            raise ConfigError(f"corpus.importer.path: {path} does not exist")
        rules = SplitRules.of(importer)
        return cls(
            importer.format,
            path,
            ReaderOptions(
                importer.allow_shell_commands,
                importer.workers,
                tuple(n for names in rules.names.values() for n in names),
            ),
            rules,
            corpus.alphabet,
            corpus.language,
            corpus.shard_size,
        )


@dataclass
class ImportReport(JsonRecord):
    """What an import did (``import_report.json`` beside the shards)."""

    KIND: ClassVar[str] = "import_report"

    format: str
    path: str
    clips: int
    hours: float
    shards: list[str]
    splits: dict[str, int]
    resampled: dict[str, int]  # original sample rate -> clips resampled to 16 kHz
    downmixed: int  # clips mixed down from several channels
    excluded: list[str] = field(default_factory=list)  # "<file>:<row>: <reason>"
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def audio_seconds_per_second(self) -> float:
        return self.hours * 3600 / self.seconds if self.seconds else 0.0

    def print(self) -> None:
        resampled = ", ".join(f"{n} from {rate} Hz" for rate, n in self.resampled.items())
        console.print(
            f"imported {self.clips} clips, {self.hours:.2f} h ({self.format}: {self.path}) in "
            f"{len(self.shards)} shards, {self.seconds:.1f} s "
            f"({self.audio_seconds_per_second:.0f} s of audio per second)\n"
            f"splits: {self.splits}; resampled to {SAMPLE_RATE} Hz: {resampled or 'none'}; "
            f"down-mixed to mono: {self.downmixed}"
        )
        for note in self.notes:
            console.print(f"[yellow]note[/] {note}")
        for line in self.excluded[:20]:
            console.print(f"[yellow]excluded[/] {line}")
        if len(self.excluded) > 20:
            console.print(f"[yellow]... and {len(self.excluded) - 20} more excluded rows")


def summarize(folders: list[Path]) -> tuple[Counter, Counter, int, float, list[str]]:
    """(rows per split, resampled per rate, down-mixed, seconds, conversion failures)."""
    splits, rates, downmixed, seconds, failed = Counter(), Counter(), 0, 0.0, []
    for folder in folders:
        failed += [str(e) for e in shard_exclusions(folder)]
        for row in read_manifest(folder / MANIFEST):
            provenance = row.extra.get("provenance", {})
            splits[row.split] += 1
            seconds += row.duration
            if provenance.get("sample_rate") != SAMPLE_RATE:
                rates[str(provenance.get("sample_rate"))] += 1
            downmixed += provenance.get("channels", 1) > 1 and "channel" not in provenance
    return splits, rates, downmixed, seconds, failed


def import_corpus(settings: ImportSettings, root: Path, executor: Executor = LOCAL) -> ImportReport:
    """Import ``settings.path`` into shards under ``root`` (resumable); returns the report.
    ``executor`` other than the local one converts the clips on its workers."""
    start = time.perf_counter()
    ownership.claim(root, STEP)
    name = detect_format(settings.path) if settings.format == "auto" else settings.format
    console.print(f"reading {settings.path} as {name}")
    clips = reader(name).read(settings.path, settings.options)
    plan = plan_import(clips, settings.alphabet, settings.language, settings.rules)
    shards = plan.shards(settings.shard_size)
    removed = ownership.prune(root, STEP, [s.name for s in shards])
    if removed:
        console.print(f"removed shards asrloop wrote that this import no longer has: {removed}")
    source, workers = f"import/{name}", settings.options.workers
    if executor is LOCAL:
        with progress_bar(f"importing {len(plan.clips)} clips", len(plan.clips)) as advance:
            folders = write_shards(shards, root, workers, source, advance)
    else:
        folders = write_shards(shards, root, workers, source, executor=executor)
    ownership.record(root, STEP, [f.name for f in folders])
    splits, rates, downmixed, seconds, failed = summarize(folders)
    report = ImportReport(
        format=name,
        path=str(settings.path),
        clips=sum(splits.values()),
        hours=round(seconds / 3600, 4),
        shards=[f.name for f in folders],
        splits=dict(sorted(splits.items())),
        resampled=dict(sorted(rates.items())),
        downmixed=downmixed,
        excluded=[str(e) for e in plan.excluded] + failed,
        notes=plan.notes,
        seconds=round(time.perf_counter() - start, 2),
    )
    report.write(root / IMPORT_REPORT)
    report.print()
    return report
