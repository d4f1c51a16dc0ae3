"""Checkpoints with their own processor: loading, heads, freezing, layer-wise learning rates,
raw-audio batches, and batches a DDP run can split."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from asrloop.errors import ConfigError, MissingInputError
from asrloop.model.checkpoint import grow_head, load_checkpoint, new_head
from asrloop.model.ctc_transformer import CtcTransformerConfig, CtcTransformerForCTC
from asrloop.model.inputs import CheckpointInputs, FbankInputs
from asrloop.model.schedule import layer_stack, layerwise_groups
from asrloop.model.training_data import Example, bucket_batches, collate
from asrloop.settings.features import FeaturesSettings
from asrloop.text.tokenizer import CharTokenizer
from tests.helpers import CHECKPOINT_VOCAB, make_wav2vec2_checkpoint

FEATURES = FeaturesSettings(16000, 80, 25, 10, max_seconds=20.0, max_file_seconds=1800.0)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_wav2vec2_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny-wav2vec2")


def test_raw_audio_checkpoint_loads_with_its_processor(checkpoint):
    model, processor = load_checkpoint(checkpoint, {"ctc_loss_reduction": "mean", "nope": 1})
    assert type(model).__name__ == "Wav2Vec2ForCTC"
    assert model.config.ctc_loss_reduction == "mean" and not hasattr(model.config, "nope")
    tokenizer = processor.tokenizer
    assert tokenizer.symbols == CHECKPOINT_VOCAB and tokenizer.blank_id == 0
    assert tokenizer.encode("it is") == [tokenizer.index[s] for s in "IT|IS"]
    inputs = processor.inputs(model, FEATURES)
    assert isinstance(inputs, CheckpointInputs) and inputs.frame_seconds == 0.02
    assert inputs.min_samples == 400  # the conv stack's receptive field


def test_raw_audio_batches_follow_the_checkpoints_mask_convention(checkpoint, tmp_path):
    """Zero-mean unit-variance per clip, zero padding; no attention mask for a wav2vec2-base
    style checkpoint. With a masked (layer-norm) checkpoint a batch gives each clip the logits
    it gets alone, on its valid frames."""
    model, processor = load_checkpoint(checkpoint)
    inputs = processor.inputs(model, FEATURES)
    rng = np.random.default_rng(0)
    clips = [rng.normal(0, 0.1, n).astype(np.float32) for n in (16000, 9000)]
    values = [inputs(c) for c in clips]
    assert abs(float(values[0].mean())) < 1e-4 and abs(float(values[0].std()) - 1) < 1e-3
    batch, lengths = inputs.batch(values)
    assert set(batch) == {"input_values"} and lengths.tolist() == [49, 27]
    model, processor = load_checkpoint(make_wav2vec2_checkpoint(tmp_path / "masked", True))
    model.eval()
    inputs = processor.inputs(model, FEATURES)
    batch, lengths = inputs.batch(values)
    assert set(batch) == {"input_values", "attention_mask"}
    with torch.no_grad():
        together = model(**batch).logits
        alone = model(**inputs.batch(values[1:])[0]).logits
    assert torch.allclose(together[1, :27], alone[0, :27], atol=1e-4)
    labelled = collate(
        [Example(str(i), v, [5, 6, 7][: 3 - i], "", "", 1.0) for i, v in enumerate(values)],
        inputs,
    )
    assert labelled["labels"].tolist() == [[5, 6, 7], [5, 6, -100]]


def test_mismatched_blank_is_refused(checkpoint, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(checkpoint, broken)
    config = json.loads((broken / "config.json").read_text())
    (broken / "config.json").write_text(json.dumps({**config, "pad_token_id": 4}))
    with pytest.raises(ConfigError, match="blank"):
        load_checkpoint(broken)
    (broken / "preprocessor_config.json").unlink(missing_ok=True)
    (broken / "processor_config.json").unlink()
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(MissingInputError, match="feature extractor"):
        load_checkpoint(broken)


def test_new_head_takes_the_project_alphabet(checkpoint):
    model, _ = load_checkpoint(checkpoint)
    tokenizer = CharTokenizer.from_texts(["the cat sat"])
    new_head(model, tokenizer)
    assert model.lm_head.out_features == len(tokenizer) == model.config.vocab_size
    assert model.config.pad_token_id == tokenizer.blank_id == 0
    before = model.lm_head.weight.detach().clone()
    grow_head(model, len(tokenizer) + 2)
    assert torch.equal(model.lm_head.weight[: len(tokenizer)], before)


def test_freezing_and_layerwise_rates(checkpoint):
    model, _ = load_checkpoint(checkpoint)
    model.freeze_feature_encoder()
    groups = layerwise_groups(model, lr=1.0, decay=0.5)
    frozen = {id(p) for p in model.wav2vec2.feature_extractor.parameters()}
    assert not frozen & {id(p) for g in groups for p in g["params"]}
    name, stack = layer_stack(model)
    assert name == "wav2vec2.encoder.layers" and len(stack) == 2
    rates = {id(p): g["lr"] for g in groups for p in g["params"]}
    assert rates[id(model.lm_head.weight)] == 1.0
    assert rates[id(next(stack[1].parameters()))] == 0.5
    assert rates[id(next(stack[0].parameters()))] == 0.25
    assert rates[id(model.wav2vec2.feature_projection.projection.weight)] == 0.125
    fbank = CtcTransformerForCTC(CtcTransformerConfig(vocab_size=10, num_layers=3))
    fbank.freeze_feature_encoder()
    assert not any(p.requires_grad for p in fbank.subsample.parameters())
    assert layer_stack(fbank)[0] == "encoder.layers"


def example(frames: int, i: int) -> Example:
    return Example(str(i), torch.zeros(frames, 1), [1], "a", "v", frames / 100, frames=frames)


def test_batches_hold_one_clip_per_process_at_least():
    examples = [example(f, i) for i, f in enumerate([900, 950, 1000, 400, 380, 2000])]
    one = bucket_batches(examples, 2000, random.Random(0))
    assert sorted(len(b) for b in one) == [1, 1, 2, 2]
    two = bucket_batches(examples, 2000, random.Random(0), min_size=2)
    assert all(len(b) >= 2 for b in two) and sorted(i for b in two for i in b) == list(range(6))


def test_fbank_inputs_give_zero_frames_for_empty_clips():
    model = CtcTransformerForCTC(CtcTransformerConfig(vocab_size=10)).eval()
    from asrloop.audio.features import FbankExtractor

    inputs = FbankInputs(FbankExtractor(), model)
    batch, lengths = inputs.batch([inputs(np.zeros(0, np.float32)), inputs(np.zeros(8000))])
    assert lengths.tolist() == [0, 13] and batch["feature_lengths"].tolist() == [1, 51]
