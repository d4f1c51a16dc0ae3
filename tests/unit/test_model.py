"""The acoustic model as a transformers model: round trip, overrides, head growth, overrides."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from asrloop.audio.features import FbankExtractor
from asrloop.audio.io import read_audio
from asrloop.config import compose
from asrloop.corpus.manifest import iter_corpus
from asrloop.errors import MissingInputError
from asrloop.model.ctc_transformer import CtcTransformerConfig, CtcTransformerForCTC
from asrloop.model.factory import build_model, load_model
from asrloop.settings import typed


def features(batch: int = 2, frames: int = 120) -> torch.Tensor:
    return torch.randn(batch, frames, 80, generator=torch.Generator().manual_seed(0))


def test_save_pretrained_round_trip_gives_identical_outputs(tmp_path):
    model = build_model(typed(compose()).model, vocab_size=30).eval()
    model.save_pretrained(tmp_path)
    again = load_model(tmp_path).eval()
    assert type(again) is CtcTransformerForCTC
    x, lengths = features(), torch.tensor([120, 90])
    with torch.no_grad():
        assert torch.equal(model(x, lengths).logits, again(x, lengths).logits)


def test_override_reaches_the_model():
    settings = typed(compose(["model.config.d_model=96", "model.config.num_layers=2"]))
    model = build_model(settings.model, vocab_size=30)
    assert model.config.d_model == 96 and len(model.encoder.conformer_layers) == 2
    assert model.lm_head.in_features == 96


def test_resize_vocab_keeps_trained_rows():
    model = CtcTransformerForCTC(CtcTransformerConfig(vocab_size=20))
    before = model.lm_head.weight.detach().clone()
    model.resize_vocab(23)
    assert model.lm_head.out_features == 23 and model.config.vocab_size == 23
    assert torch.equal(model.lm_head.weight[:20], before)


def test_subsampled_lengths_match_the_encoder_output():
    model = CtcTransformerForCTC(CtcTransformerConfig(vocab_size=20)).eval()
    lengths = torch.tensor([101, 57])
    out = model(features(2, 101), lengths).logits
    assert out.shape[1] == int(model.output_lengths(lengths).max())


def test_wav2vec2_override_builds_and_runs_on_real_audio(tiny_corpus):
    cfg, _ = tiny_corpus
    model = build_model(typed(compose(["model=wav2vec2_tiny"])).model, vocab_size=30).eval()
    row = next(iter(iter_corpus(cfg.paths.base_corpus, ["train"])))
    audio, _ = read_audio(row.audio_path)
    with torch.no_grad():
        logits = model(torch.from_numpy(audio)[None]).logits
    assert logits.shape[0] == 1 and logits.shape[-1] == 30 and logits.shape[1] > 10


def test_pretrained_override_loads_a_local_checkpoint(tmp_path):
    source = CtcTransformerForCTC(CtcTransformerConfig(vocab_size=25, d_model=64, num_heads=2))
    source.save_pretrained(tmp_path / "checkpoint")
    settings = typed(compose(["model=pretrained", f"model.path={tmp_path / 'checkpoint'}"]))
    model = build_model(settings.model, vocab_size=25)
    assert model.config.d_model == 64
    missing = typed(compose(["model=pretrained", f"model.path={tmp_path / 'none'}"]))
    with pytest.raises(MissingInputError, match=r"model\.path"):
        build_model(missing.model, vocab_size=25)


def test_features_are_80_bins_at_10_ms():
    extractor = FbankExtractor.of(typed(compose()).features)
    out = extractor(np.zeros(16000, np.float32))
    assert out.shape == (101, 80)
    assert extractor(np.zeros(10, np.float32)).shape == (0, 80)
