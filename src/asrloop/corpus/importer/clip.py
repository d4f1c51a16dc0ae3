"""What every format reader yields: :class:`SourceClip`, one transcribed stretch of audio as the
corpus describes it (raw text, its own split and speaker, where in which file)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asrloop.errors import DataError

FILE, COMMAND = "file", "command"


class CorpusImportError(DataError):
    """A corpus that cannot be imported as given (names the file, row and what to do)."""


@dataclass(frozen=True)
class SourceClip:
    """One clip of a corpus, before import.

    ``audio`` is a file path, or a shell command whose output is audio (``kind`` "command",
    Kaldi ``cmd |`` entries, only behind ``corpus.importer.allow_shell_commands``). ``offset`` and
    ``duration`` (seconds; None: to the end) select a segment; ``channel`` one channel of a
    multi-channel file (None: mix all). ``split`` is the corpus's own split name ("" if none)."""

    id: str
    audio: str
    text: str | None
    origin: str  # where the corpus says this: "<file>:<line>" or "<file> <id>"
    speaker: str = ""
    split: str = ""
    offset: float = 0.0
    duration: float | None = None
    channel: int | None = None
    kind: str = FILE
    extra: Mapping[str, Any] = field(default_factory=dict)  # format facts kept in provenance


@dataclass(frozen=True)
class ReaderOptions:
    """What a reader may do: run shell commands found in the corpus (Kaldi pipes, lhotse
    "command" sources) only when the user said so; which folder and file names are splits."""

    allow_shell_commands: bool
    workers: int
    split_names: tuple[str, ...]  # every name of corpus.importer.split_names


def resolve_audio(value: str, *bases: Path) -> str:
    """An audio path as written in a corpus file: absolute, or relative to the first of
    ``bases`` under which it exists (the first base when none has it)."""
    path = Path(value)
    if path.is_absolute():
        return str(path)
    for base in bases:
        if (base / path).exists():
            return str((base / path).resolve())
    return str((bases[0] / path).resolve())


def refuse_command(where: str, command: str, options: ReaderOptions) -> None:
    if not options.allow_shell_commands:
        raise CorpusImportError(
            f"{where}: the audio is a shell command ({command.strip()!r}); asrloop runs it only "
            "with corpus.importer.allow_shell_commands=true (it executes whatever it says)"
        )
