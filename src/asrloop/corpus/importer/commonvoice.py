"""Common Voice release, one language: ``<lang>/{train,dev,test}.tsv`` and ``<lang>/clips/*.mp3``.

Read here rather than by lhotse's recipe: that one needs the newest header (``accents`` and
``variant``; older releases fail with ``KeyError``), skips languages outside a fixed list, starts
fresh worker processes per split and drops clips whose file is missing without a visible word.
Every tsv whose name is a split (``corpus.importer.split_names``) is read; ``validated``,
``other`` and the like are not (they overlap the splits)."""

from __future__ import annotations

import csv
from pathlib import Path

from asrloop.corpus.importer.clip import CorpusImportError, ReaderOptions, SourceClip

OPTIONAL = ("gender", "age", "accents", "accent", "variant", "locale")


def detect(path: Path) -> bool:
    return (path / "clips").is_dir() and any(path.glob("*.tsv"))


def read_tsv(tsv: Path, clips_dir: Path) -> list[SourceClip]:
    out = []
    with tsv.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = {"path", "sentence"} - set(reader.fieldnames or ())
        if missing:
            raise CorpusImportError(f"{tsv}:1: no column {', '.join(sorted(missing))}")
        for number, record in enumerate(reader, start=2):
            name = record["path"]
            out.append(
                SourceClip(
                    id=Path(name).stem,
                    audio=str((clips_dir / name).resolve()),
                    text=record["sentence"],
                    origin=f"{tsv}:{number}",
                    speaker=record.get("client_id") or "",
                    split=tsv.stem,
                    extra={k: record[k] for k in OPTIONAL if record.get(k)},
                )
            )
    return out


def read(path: Path, options: ReaderOptions) -> list[SourceClip]:
    tsvs = [
        path / f"{name}.tsv" for name in options.split_names if (path / f"{name}.tsv").is_file()
    ]
    if not tsvs:
        raise CorpusImportError(
            f"{path}: no split tsv ({', '.join(f'{n}.tsv' for n in options.split_names)}); point "
            "corpus.importer.path at one language folder of the release (cv-corpus-*/en)"
        )
    return [clip for tsv in tsvs for clip in read_tsv(tsv, path / "clips")]
