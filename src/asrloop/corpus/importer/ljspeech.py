"""LJ Speech (read by lhotse): ``metadata.csv`` lines ``id|raw text|normalized text`` and
``wavs/<id>.wav``. The corpus's own normalized column is what gets normalised (it already says
"Mr." as "Mister"); the raw column is kept in provenance. One speaker and no splits: clips are
split by id (with a warning, since test clips then share the training speaker)."""

from __future__ import annotations

from pathlib import Path

from asrloop.corpus.importer.clip import CorpusImportError, ReaderOptions, SourceClip

METADATA = "metadata.csv"


def detect(path: Path) -> bool:
    return (path / METADATA).is_file() and (path / "wavs").is_dir()


def read(path: Path, options: ReaderOptions) -> list[SourceClip]:
    from lhotse.recipes import prepare_ljspeech

    metadata = path / METADATA
    for number, line in enumerate(metadata.read_text("utf-8").splitlines(), start=1):
        if line.strip() and len(line.split("|")) != 3:
            raise CorpusImportError(
                f"{metadata}:{number}: {len(line.split('|'))} fields, LJ Speech has 3 "
                "(id|raw text|normalized text)"
            )
    prepared = prepare_ljspeech(path)
    recordings = prepared["recordings"]
    return [
        SourceClip(
            id=sup.id,
            audio=str(Path(recordings[sup.recording_id].sources[0].source).resolve()),
            text=(sup.custom or {}).get("normalized_text") or sup.text,
            origin=f"{metadata} {sup.id}",
            speaker=sup.speaker or "",
            extra={
                "raw_text": sup.text,
                "corpus_normalized_text": (sup.custom or {}).get("normalized_text"),
            },
        )
        for sup in prepared["supervisions"]
    ]
