"""``asrloop drop import``: a folder of the user's own audio becomes a drop the loop can serve."""

from __future__ import annotations

import csv
from pathlib import Path

import soundfile as sf

from asrloop.artifacts import Layout
from asrloop.audio.io import SAMPLE_RATE
from asrloop.corpus.drop import Drop
from asrloop.corpus.drop_import import DropImportSettings, import_drop
from asrloop.corpus.manifest import read_manifest
from asrloop.inference.transcribe import input_rows
from asrloop.settings import typed
from tests.corpus_formats import at_rate, stereo
from tests.helpers import make_cfg


def user_folder(folder: Path, spoken) -> Path:
    """Production audio as it comes: MP3 48 kHz, stereo FLAC 44.1 kHz, WAV 8 kHz, subfolders;
    references for some clips, one of them with a symbol no word says."""
    (folder / "tuesday").mkdir(parents=True)
    sf.write(folder / "a.mp3", at_rate(spoken[0].audio, 48_000), 48_000, format="MP3")
    sf.write(folder / "tuesday" / "b c.flac", stereo(at_rate(spoken[1].audio, 44_100)), 44_100)
    sf.write(folder / "tuesday" / "d.wav", at_rate(spoken[2].audio, 8_000), 8_000)
    sf.write(folder / "e.wav", spoken[3].audio, SAMPLE_RATE)
    with (folder / "metadata.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_name", "transcription"])
        writer.writerow(["a.mp3", spoken[0].text])
        writer.writerow(["tuesday/b c.flac", spoken[1].text])
        writer.writerow(["e.wav", "\u2603 snowman"])
    return folder


def test_a_folder_of_audio_becomes_a_drop(tmp_path, spoken):
    folder = user_folder(tmp_path / "incoming", spoken)
    cfg = make_cfg(
        tmp_path / "project",
        "scenario.drop.source=import",
        f"scenario.drop.import_from={folder}",
        "corpus.importer.workers=1",
    )
    settings = typed(cfg)
    layout = Layout.from_paths(settings.paths)
    drop = Drop.of(settings.scenario.drop, layout)
    import_drop(drop, DropImportSettings.of(settings.scenario.drop, settings.corpus), layout)

    rows = read_manifest(drop.manifest, require_text=False)
    assert sorted(r.id for r in rows) == ["a", "e", "tuesday-b-c", "tuesday-d"]
    assert all(r.text is None and "raw_text" not in r.extra["provenance"] for r in rows)
    rates = {r.id: r.extra["provenance"]["sample_rate"] for r in rows}
    assert rates == {"a": 48_000, "tuesday-b-c": 44_100, "tuesday-d": 8_000, "e": 16_000}
    for row in rows:
        info = sf.info(row.audio_path)
        assert (info.samplerate, info.channels) == (SAMPLE_RATE, 1)
        assert abs(row.duration - info.frames / SAMPLE_RATE) < 1e-3
    references = drop.reference_texts()
    assert references == {"a": spoken[0].normalized, "tuesday-b-c": spoken[1].normalized}
    assert {c.id for c in drop.clips("all")} == {"a", "tuesday-b-c"}  # the e.wav text is refused
    assert [r.id for r in input_rows(drop.folder)] == [r.id for r in rows]  # what serving reads

    again = {p: p.stat().st_mtime_ns for p in drop.folder.iterdir()}
    import_drop(drop, DropImportSettings.of(settings.scenario.drop, settings.corpus), layout)
    assert {p: p.stat().st_mtime_ns for p in drop.folder.iterdir()} == again  # resumable
