"""The saved model folder loads with transformers alone: the model, its features and tokenizer,
and ``pipeline("automatic-speech-recognition")`` with greedy decoding, in a fresh process where
asrloop cannot be imported. Padding in a batch does not change a clip's result."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from asrloop.audio.features import FbankExtractor
from asrloop.audio.io import read_audio
from asrloop.config import compose
from asrloop.corpus.manifest import iter_corpus
from asrloop.model.checkpoint import Processor
from asrloop.model.ctc_transformer import CtcTransformerConfig, CtcTransformerForCTC
from asrloop.model.folder import save_model_folder
from asrloop.settings import typed
from asrloop.text.tokenizer import CharTokenizer
from tests.helpers import PROJECT

SCRIPT = PROJECT / "tests" / "scripts" / "transformers_only.py"


@pytest.fixture(scope="module")
def folder(tiny_corpus, tmp_path_factory):
    """A small random-init model saved as the complete folder, and two clips of unequal length."""
    cfg, _ = tiny_corpus
    rows = sorted(iter_corpus(cfg.paths.base_corpus, ["test"]), key=lambda r: r.duration)
    tokenizer = CharTokenizer.from_texts(r.text for r in rows)
    torch.manual_seed(3)
    config = CtcTransformerConfig(
        vocab_size=len(tokenizer), d_model=64, num_layers=2, num_heads=2, ff_dim=128
    )
    model = CtcTransformerForCTC(config).eval()
    features = typed(cfg).features
    out = save_model_folder(
        model, Processor(tokenizer), tmp_path_factory.mktemp("m") / "model", features
    )
    return out, model, tokenizer, [rows[0].audio_path, rows[-1].audio_path], features


def greedy(model, tokenizer, features, path) -> tuple[str, torch.Tensor]:
    """asrloop's own greedy decoding of one clip (text, logits)."""
    feats = FbankExtractor.of(features)(read_audio(path)[0])
    with torch.no_grad():
        logits = model(feats[None], torch.tensor([feats.shape[0]])).logits[0]
    return tokenizer.decode(tokenizer.ctc_collapse(logits.argmax(-1).tolist())), logits


def test_folder_has_remote_code_features_and_tokenizer(folder):
    out, *_ = folder
    config = json.loads((out / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "ctc_transformer.CtcTransformerConfig",
        "AutoModelForCTC": "ctc_transformer.CtcTransformerForCTC",
    }
    assert config["inputs_to_logits_ratio"] == 640  # 10 ms hop x 4 subsampling
    for name in (
        "ctc_transformer.py",
        "feature_extraction_asrloop.py",
        "preprocessor_config.json",
        "tokenizer_config.json",
        "vocab.json",
    ):
        assert (out / name).is_file(), name
    pre = json.loads((out / "preprocessor_config.json").read_text())
    assert pre["feature_size"] == 80 and pre["hop_ms"] == 10.0


def test_attention_mask_batches_like_single_clips(folder):
    _, model, _, paths, features = folder
    extractor = FbankExtractor.of(features)
    feats = [extractor(read_audio(p)[0]) for p in paths]
    lengths = torch.tensor([f.shape[0] for f in feats])
    batch = torch.zeros(2, int(lengths.max()), 80)
    mask = torch.zeros(2, int(lengths.max()), dtype=torch.long)
    for i, f in enumerate(feats):
        batch[i, : f.shape[0]], mask[i, : f.shape[0]] = f, 1
    with torch.no_grad():
        by_lengths = model(batch, lengths).logits
        by_mask = model(batch, attention_mask=mask).logits
        both = model(batch, lengths, attention_mask=mask).logits
        short_alone = model(feats[0][None]).logits[0]
    assert torch.equal(both, by_lengths)  # the project's calls are unchanged by a mask
    n = int(model.output_lengths(lengths[:1]))
    assert torch.allclose(by_mask[0, :n], short_alone, atol=1e-5)
    assert (by_mask[0, n:].argmax(-1) == 0).all()  # padded frames are certain blanks
    assert n < by_mask.shape[1]


def test_transformers_alone_loads_and_transcribes_like_asrloop(folder, tmp_path):
    out, model, tokenizer, paths, features = folder
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "hf_modules")}
    result_path = tmp_path / "result.json"
    command = [sys.executable, str(SCRIPT), str(out), str(result_path), *map(str, paths)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(result_path.read_text())
    assert result["model_class"].startswith("transformers_modules.")  # the folder's own code
    expected = [greedy(model, tokenizer, features, p) for p in paths]
    texts = [text for text, _ in expected]
    assert all(texts) and texts[0] != texts[1]
    assert result["single"] == texts
    assert result["batched"] == texts
    np.testing.assert_allclose(np.array(result["logits"]), expected[0][1].numpy(), atol=1e-4)
    words = result["words"][0]
    assert " ".join(w["text"] for w in words) == texts[0]
    assert all(w["timestamp"][0] < w["timestamp"][1] for w in words)


def test_features_match_the_training_features():
    from asrloop.model.folder import feature_extractor

    features = typed(compose()).features
    wave = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    hf = feature_extractor(features)(wave, sampling_rate=16000, return_tensors="pt")
    ours = FbankExtractor.of(features)(wave)
    assert torch.equal(hf["input_features"][0], ours)
    assert hf["attention_mask"].sum() == ours.shape[0]
