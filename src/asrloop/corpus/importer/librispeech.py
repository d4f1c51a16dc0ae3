"""LibriSpeech layout (read by lhotse): ``<part>/<speaker>/<chapter>/<spk>-<chap>.trans.txt`` with
``<utterance id> TEXT`` lines beside ``<utterance id>.flac``. The part folders are the splits
(``train-clean-100`` -> train, ``dev-clean`` -> dev, ...). ``path`` is the folder holding the parts
(``LibriSpeech/``) or one part."""

from __future__ import annotations

from pathlib import Path

from asrloop.corpus.importer.clip import CorpusImportError, ReaderOptions, SourceClip

TRANSCRIPTS = "*/*/*.trans.txt"


def parts(path: Path) -> tuple[Path, list[str]]:
    """(the folder holding the parts, the part names) for a corpus or a single part."""
    if any(path.glob(TRANSCRIPTS)):
        return path.parent, [path.name]
    return path, sorted({p.parents[2].name for p in path.glob(f"*/{TRANSCRIPTS}")})


def detect(path: Path) -> bool:
    return path.is_dir() and bool(parts(path)[1])


def read(path: Path, options: ReaderOptions) -> list[SourceClip]:
    from lhotse.recipes import prepare_librispeech

    corpus_dir, names = parts(path)
    if not names:
        raise CorpusImportError(f"{path}: no LibriSpeech part (<part>/<spk>/<chap>/*.trans.txt)")
    prepared = prepare_librispeech(
        corpus_dir, dataset_parts=names, num_jobs=max(1, options.workers)
    )
    clips = []
    for part in names:
        recordings = prepared[part]["recordings"]
        for sup in prepared[part]["supervisions"]:
            speaker, chapter = sup.id.split("-")[:2]
            transcript = corpus_dir / part / speaker / chapter / f"{speaker}-{chapter}.trans.txt"
            clips.append(
                SourceClip(
                    id=sup.id,
                    audio=str(Path(recordings[sup.recording_id].sources[0].source).resolve()),
                    text=sup.text,
                    origin=f"{transcript} {sup.id}",
                    speaker=sup.speaker or speaker,
                    split=part,
                    offset=float(sup.start),
                    extra={"chapter": chapter},
                )
            )
    return clips
