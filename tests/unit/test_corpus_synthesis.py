"""Synthesis round trip, determinism, resume, voice validation: real espeak-ng audio."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from asrloop.corpus.manifest import MANIFEST_NAME, iter_corpus, read_manifest
from asrloop.corpus.plan import plan_corpus
from asrloop.corpus.shards import render_shards
from asrloop.corpus.synthesis import VoiceError, validate_voice
from asrloop.settings import typed
from tests.helpers import TINY_CORPUS, make_cfg


def test_round_trip_audio_matches_manifest(tiny_corpus):
    cfg, _ = tiny_corpus
    rows = list(iter_corpus(cfg.paths.base_corpus))
    assert {r.split for r in rows} == {"train", "dev", "test", "regression", "test_neural"}
    assert {r.voice for r in rows if r.split == "test_neural"} == set(cfg.corpus.voices.neural)
    for row in rows:
        info = sf.info(str(row.audio_path))
        assert info.samplerate == 16000 and info.channels == 1
        assert abs(info.frames / 16000 - row.duration) < 1e-3
        assert row.text and not Path(row.audio_filepath).is_absolute()


def test_test_split_uses_only_heldout_voices(tiny_corpus):
    cfg, _ = tiny_corpus
    heldout = set(cfg.corpus.voices.heldout)
    for row in iter_corpus(cfg.paths.base_corpus):
        assert (row.voice in heldout) == (row.split == "test"), row


def test_same_seed_gives_byte_identical_manifests(tiny_corpus, tmp_path):
    cfg, _ = tiny_corpus
    again = make_cfg(tmp_path, *TINY_CORPUS)
    shards = plan_corpus(typed(again).corpus, again.scenario.terms)
    render_shards(shards, Path(again.paths.base_corpus), workers=1)
    first = sorted(Path(cfg.paths.base_corpus).rglob(MANIFEST_NAME))
    second = sorted(Path(again.paths.base_corpus).rglob(MANIFEST_NAME))
    assert [p.parent.name for p in first] == [p.parent.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_interrupted_synthesis_resumes_without_redoing_finished_shards(tmp_path):
    cfg = make_cfg(
        tmp_path,
        "corpus.splits.train=12",
        "corpus.splits.dev=0",
        "corpus.splits.test=0",
        "corpus.splits.regression=0",
        "corpus.splits.test_neural=0",
        "corpus.shard_size=4",
    )
    shards = plan_corpus(typed(cfg).corpus, cfg.scenario.terms)
    root = Path(cfg.paths.base_corpus)
    render_shards(shards, root, workers=1)
    finished = {p: p.stat().st_mtime_ns for p in root.rglob("*.wav")}
    # an interruption mid-shard: the last shard lost its manifest, a partial folder remains
    (root / shards[-1].name / MANIFEST_NAME).unlink()
    (root / (shards[-1].name + ".partial")).mkdir()
    progress = []
    render_shards(shards, root, workers=1, on_progress=progress.append)
    assert progress[0] == 8  # the two finished shards counted as done up front
    for path, mtime in finished.items():
        if path.parent.name != shards[-1].name:
            assert path.stat().st_mtime_ns == mtime, f"{path} was redone"
    assert len(read_manifest(root / shards[-1].name / MANIFEST_NAME)) == 4
    assert not (root / (shards[-1].name + ".partial")).exists()


@pytest.mark.parametrize("voice", ["en-us+klatt99", "xx-nowhere", "piper:nobody"])
def test_unknown_voices_are_rejected(voice):
    with pytest.raises(VoiceError):
        validate_voice(voice)


def test_known_voices_pass():
    validate_voice("en-us+klatt2")
    validate_voice("en-gb-scotland+f2")
