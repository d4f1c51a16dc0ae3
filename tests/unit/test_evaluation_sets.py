"""What evaluation scores beyond the corpus splits: slices of a set, and the real-speech smoke
set read through the corpus importers."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from asrloop.config import compose
from asrloop.corpus.manifest import Utterance
from asrloop.corpus.real_speech import real_speech_rows
from asrloop.corpus.slices import slices_of
from asrloop.errors import ConfigError
from asrloop.settings import typed

ROOT = Path(__file__).resolve().parents[2]


def row(voice: str, duration: float, source: str = "news/test", **extra) -> Utterance:
    return Utterance("x", "x.wav", duration, "a b", voice=voice, source=source, extra=extra)


def test_each_clip_belongs_to_one_slice_per_dimension():
    assert slices_of(row("en-gb-scotland+klatt4", 3.1, snr_db=17.5)) == [
        "family=espeak",
        "accent=en-gb-scotland",
        "voice=en-gb-scotland+klatt4",
        "duration=2-4s",
        "noise=snr<20dB",
    ]
    assert slices_of(row("piper:joe", 1.2, snr_db=None)) == [
        "family=piper",
        "accent=piper:joe",
        "voice=piper:joe",
        "duration=<2s",
        "noise=clean",
    ]
    recorded = slices_of(row("2412", 11.7, source="import/librispeech"))
    assert recorded == [
        "family=recorded",
        "accent=recorded",
        "voice=2412",
        "duration=>=4s",
        "noise=unknown",
    ]


def test_the_shipped_real_speech_is_imported_through_the_importers(tmp_path):
    settings = typed(compose())
    rows = real_speech_rows(settings.evaluate.real_speech, settings.corpus, [ROOT], tmp_path)
    assert {r.id for r in rows} == {"2412-153948-0000", "LJ002-0020", "LJ002-0035"}
    texts = {r.id: r.text for r in rows}
    assert texts["LJ002-0035"] == "eight the press yard"  # normalised as the corpus's text
    for r in rows:
        info = sf.info(str(r.audio_path))
        assert info.samplerate == 16000 and info.channels == 1  # LJ Speech's 22,050 Hz resampled
        assert r.audio_path.resolve().is_relative_to(tmp_path.resolve())
        assert slices_of(r)[0] == "family=recorded"
    # a second read reuses the import
    elsewhere = tmp_path / "project"  # a project without assets/: the source tree's are found
    again = real_speech_rows(
        settings.evaluate.real_speech, settings.corpus, [elsewhere, ROOT], tmp_path
    )
    assert [r.id for r in again] == [r.id for r in rows]
    with pytest.raises(ConfigError, match="no folder 'nowhere'"):
        real_speech_rows(["nowhere"], settings.corpus, [elsewhere, ROOT], tmp_path)
