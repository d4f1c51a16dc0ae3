"""Kaldi data directory: ``wav.scp`` (required), ``segments`` (``<utt> <rec> <start> <end>``, end
-1: to the end of the file), ``text``, ``utt2spk``. ``path`` is one data dir (no splits) or a
folder of them named by split (``data/train``, ``data/dev``...).

The files are read with lhotse's Kaldi readers; the rest is done here, because lhotse's loader
trusts one sample rate for the whole folder and needs kaldi_native_io for piped entries. A
``cmd |`` entry of ``wav.scp`` is a shell command: it runs only with
``corpus.importer.allow_shell_commands=true``, and a failing command is an error."""

from __future__ import annotations

from pathlib import Path

from asrloop.corpus.importer.clip import (
    COMMAND,
    FILE,
    CorpusImportError,
    ReaderOptions,
    SourceClip,
    refuse_command,
    resolve_audio,
)

WAV_SCP = "wav.scp"


def data_dirs(path: Path) -> list[Path]:
    if (path / WAV_SCP).is_file():
        return [path]
    return sorted(p.parent for p in path.glob(f"*/{WAV_SCP}"))


def detect(path: Path) -> bool:
    return path.is_dir() and bool(data_dirs(path))


def _mapping(path: Path, must_exist: bool = False) -> dict[str, str]:
    from lhotse.kaldi import load_kaldi_text_file, load_kaldi_text_mapping

    if not path.is_file() and not must_exist:
        return {}
    try:
        if path.name == "text":
            return dict(load_kaldi_text_file(path))
        return dict(load_kaldi_text_mapping(path, must_exist=must_exist))
    except ValueError as error:
        raise CorpusImportError(f"{path}: not a Kaldi key-value file ({error})") from error


def _recordings(folder: Path, options: ReaderOptions) -> dict[str, tuple[str, str]]:
    """Recording id -> (kind, file path or command)."""
    scp = folder / WAV_SCP
    lines = {
        text.split(maxsplit=1)[0]: number
        for number, text in enumerate(scp.read_text().splitlines(), start=1)
        if text.strip()
    }
    out = {}
    for key, value in _mapping(scp, must_exist=True).items():
        line = lines.get(key, 0)
        if value.endswith("|"):
            refuse_command(f"{scp}:{line}", value[:-1], options)
            out[key] = (COMMAND, value[:-1].strip())
        elif ".ark:" in value or value.endswith(".ark"):
            raise CorpusImportError(f"{scp}:{line}: archive entries ({value}) are not supported")
        else:
            out[key] = (FILE, resolve_audio(value, folder.parent.parent, folder.parent, folder))
    return out


def read_dir(folder: Path, options: ReaderOptions, split: str) -> list[SourceClip]:
    recordings = _recordings(folder, options)
    texts, speakers = _mapping(folder / "text"), _mapping(folder / "utt2spk")

    def clip(utt: str, rec: str, origin: str, start: float = 0.0, end: float = -1) -> SourceClip:
        kind, source = recordings[rec]
        return SourceClip(
            id=utt,
            audio=source,
            text=texts.get(utt),
            origin=origin,
            speaker=speakers.get(utt, ""),
            split=split,
            offset=start,
            duration=None if end < 0 else end - start,
            kind=kind,
            extra={"recording": rec} if utt != rec else {},
        )

    segments = folder / "segments"
    if not segments.is_file():
        return [clip(rec, rec, f"{folder / 'text'} {rec}") for rec in recordings]
    clips = []
    for number, line in enumerate(segments.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4 or fields[1] not in recordings:
            raise CorpusImportError(
                f"{segments}:{number}: expected '<utt> <recording in wav.scp> <start> <end>'"
            )
        utt, rec, start, end = fields
        clips.append(clip(utt, rec, f"{segments}:{number}", float(start), float(end)))
    return clips


def read(path: Path, options: ReaderOptions) -> list[SourceClip]:
    folders = data_dirs(path)
    if not folders:
        raise CorpusImportError(f"{path}: no {WAV_SCP} here or in a subfolder")
    return [clip for folder in folders for clip in read_dir(folder, options, folder.name)]
