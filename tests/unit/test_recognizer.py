"""The serving path never crashes on bad audio: empty, silent, over-long, unreadable; for the
project's fbank model and for a raw-audio wav2vec2-style checkpoint with its own processor."""

from __future__ import annotations

import pickle
import shutil
import tempfile

import numpy as np
import pytest
import torch

from asrloop.config import compose
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.inference.batch import transcribe_utterances
from asrloop.inference.loading import GREEDY
from asrloop.inference.recognizer import Recognizer
from asrloop.model.ctc_transformer import CtcTransformerConfig, CtcTransformerForCTC
from asrloop.settings import typed
from asrloop.settings.decode import DecodeSettings, LexiconDecodeSettings
from asrloop.text.tokenizer import CharTokenizer
from asrloop.text.vocabulary import build_vocabulary
from tests.helpers import make_wav2vec2_checkpoint

SENTENCES = ["the minister met the press", "rain fell in the north", "the bridge is open"]


LEXICON = LexiconDecodeSettings(
    type="lexicon",
    beam_size=10,
    beam_threshold=25,
    lm_weight=0.5,
    word_score=0.0,
    unk_score=float("-inf"),
    sil_score=0.0,
    nbest=1,
)


@pytest.fixture(scope="module", params=["fbank", "wav2vec2"])
def model_dirs(request, tmp_path_factory):
    """An untrained model and a tiny vocabulary: outputs are arbitrary, which is the point."""
    folder = tmp_path_factory.mktemp("model")
    if request.param == "wav2vec2":
        make_wav2vec2_checkpoint(folder / "model")
    else:
        tokenizer = CharTokenizer.from_texts(SENTENCES)
        torch.manual_seed(0)
        model = CtcTransformerForCTC(
            CtcTransformerConfig(
                vocab_size=len(tokenizer), d_model=64, num_heads=2, ff_dim=128, num_layers=1
            )
        )
        model.save_pretrained(folder / "model")
        tokenizer.save(folder / "model")
    build_vocabulary(SENTENCES, folder / "vocab", order=2)
    return folder


def make_recognizer(folder, decode: DecodeSettings) -> Recognizer:
    features = typed(compose()).features
    return Recognizer.from_dirs(
        folder / "model", folder / "vocab", decode, features, max_seconds=4.0
    )


@pytest.fixture(params=["greedy", "lexicon"])
def recognizer(request, model_dirs):
    return make_recognizer(model_dirs, GREEDY if request.param == "greedy" else LEXICON)


def test_empty_and_silent_clips_give_a_transcript_not_a_crash(recognizer):
    results = recognizer.transcribe_batch(
        [np.zeros(0, np.float32), np.zeros(16000, np.float32), np.zeros(5, np.float32)]
    )
    assert len(results) == 3
    assert results[0].text == "" and results[2].text == ""
    assert all(isinstance(r.text, str) for r in results)


def test_long_clip_is_chunked_with_monotonic_word_times(recognizer):
    audio = np.random.default_rng(0).normal(0, 0.1, 16000 * 11).astype(np.float32)
    result = recognizer.transcribe_batch([audio])[0]
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= 11.2 for w in result.words)


def test_lexicon_decoding_emits_only_vocabulary_words(model_dirs):
    recognizer = make_recognizer(model_dirs, LEXICON)
    audio = np.random.default_rng(1).normal(0, 0.2, 16000 * 3).astype(np.float32)
    words = {w for s in SENTENCES for w in s.split()}
    assert set(recognizer.transcribe_batch([audio])[0].text.split()) <= words


def test_unreadable_clip_is_reported_and_skipped(recognizer, tiny_corpus, tmp_path):
    cfg, _ = tiny_corpus
    rows = list(iter_corpus(cfg.paths.base_corpus, ["dev"]))[:2]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not a wav at all")
    bad = Utterance("broken", str(broken), 1.0, "x")
    predictions, stats = transcribe_utterances(recognizer, [*rows, bad], batch_seconds=30)
    assert stats.skipped == 1
    assert [p.utterance.id for p in predictions] == [r.id for r in rows]


def test_bf16_inference_is_autocast_close_to_fp32_and_keyed_apart(model_dirs):
    features = typed(compose()).features
    recognizers = {
        precision: Recognizer.from_dirs(
            model_dirs / "model", None, GREEDY, features, 4.0, precision=precision
        )
        for precision in ("fp32", "bf16")
    }
    audio = [np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)]
    fp32, _ = recognizers["fp32"].log_probs(audio)
    bf16, _ = recognizers["bf16"].log_probs(audio)
    assert not torch.equal(fp32, bf16)  # the model really ran in bf16
    torch.testing.assert_close(bf16, fp32, atol=0.1, rtol=0.05)
    # cached predictions of one format are never served for the other
    assert recognizers["fp32"].signature != recognizers["bf16"].signature


def test_inference_precision_comes_from_the_trainer_config(tmp_path):
    from asrloop.hardware import cpu_has_fast_bf16
    from asrloop.inference.loading import DecodingSetup

    def setup(value: str) -> DecodingSetup:
        settings = typed(compose([f"trainer.inference_precision={value}", "trainer.device=cpu"]))
        return DecodingSetup.resolve(settings.decode, settings.features, tmp_path, settings.trainer)

    assert setup("fp32").precision == "fp32"
    assert setup("bf16").precision == "bf16"
    assert setup("auto").precision == ("bf16" if cpu_has_fast_bf16() else "fp32")


def test_a_recognizer_travels_as_its_recipe_by_value(model_dirs, tmp_path, monkeypatch):
    """What an executor's worker gets: the same model, vocabulary and settings, even once the
    folders it was built from are gone (a registry checkout is removed after loading)."""
    copy = tmp_path / "copy"
    shutil.copytree(model_dirs, copy)
    original = make_recognizer(copy, LEXICON)
    sent = pickle.dumps(original)
    shutil.rmtree(copy)
    private = tmp_path / "private"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    rebuilt = pickle.loads(sent)
    assert rebuilt.signature == original.signature
    assert not list(private.iterdir()), "the worker's copy of the folders is left behind"
    audio = [np.random.default_rng(seed).normal(0, 0.1, 16000 + 4000 * seed) for seed in range(3)]
    audio = [a.astype(np.float32) for a in audio]
    assert rebuilt.transcribe_batch(audio) == original.transcribe_batch(audio)


def test_a_recognizer_built_from_objects_says_it_cannot_travel(recognizer):
    bare = Recognizer(
        recognizer.model, recognizer.tokenizer, recognizer.decoder, recognizer.inputs, 4.0
    )
    with pytest.raises(TypeError, match="from model folders"):
        pickle.dumps(bare)
