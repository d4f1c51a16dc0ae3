"""Rows with ``offset``: a clip is a stretch of a longer file, read as such by the data checks,
training and transcription (as NeMo manifests and Kaldi segments describe clips)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from asrloop.audio.features import FbankExtractor
from asrloop.audio.io import SAMPLE_RATE, read_audio
from asrloop.checks.corpus import CorpusRules
from asrloop.checks.data import check_corpus
from asrloop.corpus.manifest import Utterance, read_manifest, write_manifest
from asrloop.model.ctc_transformer import CtcTransformerConfig, CtcTransformerForCTC
from asrloop.model.inputs import FbankInputs
from asrloop.model.training_data import load_examples
from asrloop.settings import typed
from asrloop.text.tokenizer import CharTokenizer
from tests.corpus_formats import joined
from tests.helpers import make_cfg


def segment_shard(folder: Path, spoken) -> list[Utterance]:
    """A user shard: one long 16 kHz recording, one row per sentence with its offset."""
    folder.mkdir(parents=True)
    clips = spoken[:12]
    audio, spans = joined(clips)
    sf.write(folder / "long.wav", audio, SAMPLE_RATE, subtype="PCM_16")
    rows = [
        Utterance(
            id=f"seg{k:02d}",
            audio_filepath="long.wav",
            offset=start,
            duration=round(end - start, 5),
            text=clip.normalized,
            speaker=f"s{clip.voice}",
            voice=f"s{clip.voice}",
            split="test" if clip.voice == 3 else "train",
        )
        for k, (clip, (start, end)) in enumerate(zip(clips, spans, strict=True))
    ]
    write_manifest(folder / "manifest.jsonl", rows)
    return read_manifest(folder / "manifest.jsonl")


def test_offset_round_trips_and_reads_the_segment(tmp_path, spoken):
    rows = segment_shard(tmp_path / "shard", spoken)
    assert rows[3].offset is not None and rows[3].to_dict()["offset"] == rows[3].offset
    audio, _ = read_audio(rows[3].audio_path, segment=rows[3].segment)
    expected = spoken[3].audio
    assert abs(len(audio) - len(expected)) <= 1
    n = min(len(audio), len(expected))
    assert np.abs(audio[:n] - expected[:n]).max() < 2e-3
    whole = Utterance.from_dict({"audio_filepath": "x.wav", "duration": 1.0, "text": "x"})
    assert whole.segment == (0.0, None) and "offset" not in whole.to_dict()


def test_data_checks_and_training_data_read_segments(tmp_path, spoken):
    cfg = make_cfg(tmp_path, "corpus.source=import")
    rows = segment_shard(Path(cfg.paths.corpus) / "user" / "long-shard", spoken)
    settings = typed(cfg)
    rules = CorpusRules.of(settings.checks.data, settings.features.sample_rate, settings.corpus, [])
    report = check_corpus(cfg.paths.corpus, rules, only=("audio", "labels", "duplicates"))
    assert report.passed, [f"{f.check}: {f.rows[:2]}" for f in report.errors]
    assert report.summary["rows"] == 12

    tokenizer = CharTokenizer.from_texts(r.text for r in rows)
    model = CtcTransformerForCTC(CtcTransformerConfig(vocab_size=len(tokenizer)))
    inputs = FbankInputs(FbankExtractor(), model)
    examples, load = load_examples(rows, tokenizer, inputs, 30.0, "segments")
    assert len(examples) == 12 and not load.skipped
    for example, clip in zip(examples, spoken, strict=False):
        assert abs(example.duration - len(clip.audio) / SAMPLE_RATE) < 0.01
