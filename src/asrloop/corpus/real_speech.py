"""A real-speech smoke set: recordings of people, read through the corpus importers.

``evaluate.real_speech`` names folders in any layout ``asrloop corpus import`` reads (shipped:
a LibriSpeech part and an LJ Speech folder under ``assets/real_speech``, with their attribution).
Each folder is imported once into the cache (16 kHz mono shards, text normalised as the corpus's
own) and all its rows, whatever split the corpus gave them, form the ``real_speech`` evaluation
set: what a model trained on synthesized voices makes of human speech, reported as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from asrloop.artifacts import IMPORT_REPORT
from asrloop.corpus.importer.importing import ImportSettings, import_corpus
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.errors import ConfigError
from asrloop.settings.corpus import CorpusSettings


def imported_folder(source: Path, corpus: CorpusSettings, cache: Path) -> Path:
    """``source`` imported as shards under ``cache`` (once; the import resumes if cut short)."""
    key = hashlib.sha256(str(source).encode()).hexdigest()[:8]
    target = cache / f"{source.name}-{key}"
    if not (target / IMPORT_REPORT).exists():
        importer = replace(corpus.importer, path=str(source), format="auto")
        import_corpus(ImportSettings.of(replace(corpus, importer=importer)), target)
    return target


def locate(folder: str, roots: Sequence[Path]) -> Path:
    """``folder`` itself when absolute, else under the first of ``roots`` that has it."""
    if Path(folder).is_absolute():
        candidates = [Path(folder)]
    else:
        candidates = [Path(root) / folder for root in roots]
    found = next((c for c in candidates if c.is_dir()), None)
    if found is None:
        tried = ", ".join(str(c) for c in candidates)
        raise ConfigError(f"evaluate.real_speech: no folder {folder!r} (looked in {tried})")
    return found.resolve()


def real_speech_rows(
    folders: Sequence[str], corpus: CorpusSettings, roots: Sequence[Path], cache: Path
) -> list[Utterance]:
    """Every clip of the ``folders``; a relative folder is looked up under each of ``roots``
    in turn (the project, then the source tree that ships ``assets/``)."""
    rows: list[Utterance] = []
    for folder in folders:
        rows += iter_corpus(imported_folder(locate(folder, roots), corpus, cache))
    return rows
