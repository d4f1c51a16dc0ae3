"""Fine-tuning pretrained checkpoints, loaded exactly as downloaded ones (no hub is reachable, so
the tests make their own): (b) a small raw-audio Wav2Vec2ForCTC saved with its Wav2Vec2Processor
(upper-case vocabulary, ``<pad>`` blank at 0) and (a) the project's own registered model
exported as a checkpoint folder. Both through ``model=pretrained model.path=...`` on a tiny
corpus: (b) keeps its vocabulary, its loss falls, it evaluates and serves with lexicon + LM.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch

from asrloop.artifacts import ModelOutput
from asrloop.decode import LexiconDecoder
from asrloop.inference.pyfunc import Transcriber
from asrloop.records import TrainingResult
from asrloop.steps import evaluate, model_export, train, vocab_build
from tests.helpers import (
    CHECKPOINT_VOCAB,
    TINY_CORPUS,
    corpus_project,
    make_cfg,
    make_wav2vec2_checkpoint,
    tracking_uri,
)

FAST = [
    *TINY_CORPUS,
    "train.scheduler.warmup_steps=2",
    "train.log_every=1",
    "train.eval_every=1000",
    "train.spec_augment.freq_masks=0",
    "decode.beam_size=10",
]
FBANK = [
    "model.config.d_model=64",
    "model.config.num_heads=2",
    "model.config.ff_dim=128",
    "model.config.num_layers=2",
    "train.max_batch_frames=3000",
]


def project(tiny_corpus, tmp_path_factory, name: str) -> Path:
    """A git repository holding a copy of the tiny corpus and its vocabulary folder."""
    root = corpus_project(tiny_corpus[1], tmp_path_factory.mktemp(name))
    vocab_build.run(make_cfg(root, *TINY_CORPUS))
    return root


def losses(cfg, run_id: str) -> list[float]:
    mlflow.set_tracking_uri(tracking_uri(cfg))
    history = mlflow.MlflowClient().get_metric_history(run_id, "loss")
    return [m.value for m in sorted(history, key=lambda m: m.step)]


@pytest.fixture(scope="module")
def wav2vec2(tiny_corpus, tmp_path_factory):
    """Checkpoint (b) fine-tuned for a few steps on the tiny corpus, then evaluated."""
    root = project(tiny_corpus, tmp_path_factory, "wav2vec2")
    checkpoint = make_wav2vec2_checkpoint(root / "checkpoints" / "tiny-wav2vec2")
    overrides = [
        *FAST,
        "model=pretrained",
        f"model.path={checkpoint}",
        "train.max_steps=14",
        "train.max_batch_frames=2000",
        "train.optimizer.lr=3e-3",
        "train.layer_lr_decay=0.8",
    ]
    cfg = make_cfg(root, *overrides)
    train.run(cfg)
    result = TrainingResult.load(ModelOutput(Path(cfg.train.output_dir)).result)
    eval_cfg = make_cfg(root, *overrides, f"evaluate.model=registry:{result.model_version}")
    report = evaluate.run(eval_cfg)
    return cfg, root, checkpoint, result, report


def test_checkpoint_keeps_its_own_vocabulary(wav2vec2):
    cfg, _, checkpoint, result, _ = wav2vec2
    best = Path(result.model_dir)
    vocab = json.loads((best / "vocab.json").read_text())
    assert vocab == json.loads((checkpoint / "vocab.json").read_text())
    assert sorted(vocab, key=vocab.get) == CHECKPOINT_VOCAB  # <pad> at 0, | at 4, upper case
    config = json.loads((best / "config.json").read_text())
    assert config["model_type"] == "wav2vec2" and config["pad_token_id"] == 0
    assert config["ctc_loss_reduction"] == "mean"  # model.config_overrides
    assert json.loads((best / "tokenizer_config.json").read_text())["pad_token"] == "<pad>"
    from transformers import AutoFeatureExtractor, AutoModelForCTC, AutoTokenizer

    assert AutoTokenizer.from_pretrained(str(best)).pad_token_id == 0  # transformers reads it
    assert not AutoFeatureExtractor.from_pretrained(str(best)).return_attention_mask
    assert type(AutoModelForCTC.from_pretrained(str(best))).__name__ == "Wav2Vec2ForCTC"
    mlflow.set_tracking_uri(tracking_uri(cfg))
    params = mlflow.get_run(result.run_id).data.params
    assert params["vocab_size"] == str(len(CHECKPOINT_VOCAB))


def test_checkpoint_loss_falls(wav2vec2):
    cfg, _, _, result, _ = wav2vec2
    history = losses(cfg, result.run_id)
    assert len(history) == 14
    assert np.mean(history[-3:]) < 0.8 * np.mean(history[:3])


def test_checkpoint_evaluates_with_lexicon_and_lm(wav2vec2):
    _, root, _, result, report = wav2vec2
    assert report.model.model_version == result.model_version
    assert {"test", "regression"} <= set(report.results)
    lexicon = {
        line.split("\t")[0]
        for line in (root / "data" / "vocab" / "lexicon.txt").read_text().splitlines()
    }
    rows = (root / "reports" / "eval" / "test.predictions.jsonl").read_text().splitlines()
    predictions = [json.loads(line)["pred_text"] for line in rows]
    assert len(predictions) == report.results["test"].n
    assert all(set(p.split()) <= lexicon for p in predictions)


def test_checkpoint_serves_with_lexicon_and_lm(wav2vec2):
    cfg, root, _, result, _ = wav2vec2
    mlflow.set_tracking_uri(tracking_uri(cfg))
    name = cfg.tracking.registered_model
    served = mlflow.pyfunc.load_model(f"models:/{name}/{result.model_version}")
    transcriber = served.unwrap_python_model()
    assert isinstance(transcriber, Transcriber)
    decoder = transcriber.recognizer.decoder
    assert isinstance(decoder, LexiconDecoder)
    assert decoder.tokenizer.blank == "<pad>" and decoder.tokenizer.upper
    assert decoder.lexicon["the"] == ["T", "H", "E", "|"]  # spelled in the checkpoint's tokens
    clip = next((root / "data" / "corpus" / "base").rglob("*.wav"))
    [prediction] = served.predict(pd.DataFrame({"path": [str(clip)]}))
    assert set(prediction["text"].split()) <= set(decoder.lexicon)  # barely trained: maybe none
    # the served decoder on posteriors that spell two lexicon words in the checkpoint's tokens
    words = " ".join(sorted(w for w in decoder.lexicon if w.isalpha())[:2])
    tokenizer, path = decoder.tokenizer, []
    for char in words:
        token = tokenizer.index[tokenizer.to_symbol(char)]
        path += [token, token, tokenizer.blank_id]
    logits = torch.zeros(len(path), len(tokenizer))
    logits[torch.arange(len(path)), torch.tensor(path)] = 8.0
    [hypothesis] = decoder.decode(logits.log_softmax(-1)[None])
    assert hypothesis.text == words


@pytest.fixture(scope="module")
def exported(tiny_corpus, tmp_path_factory):
    """Checkpoint (a): a registered fbank model, exported, then fine-tuned as a checkpoint."""
    root = project(tiny_corpus, tmp_path_factory, "exported")
    first = make_cfg(root, *FAST, *FBANK, "train.max_steps=10")
    train.run(first)
    scratch = TrainingResult.load(ModelOutput(Path(first.train.output_dir)).result)
    folder = model_export.run(make_cfg(root, f"export.model={scratch.model_version}"))
    again = make_cfg(
        root,
        *FAST,
        "train.max_batch_frames=3000",
        "model=pretrained",
        f"model.path={folder}",
        "train.max_steps=4",
        f"train.output_dir={root}/models/finetuned",
    )
    train.run(again)
    tuned = TrainingResult.load(ModelOutput(Path(again.train.output_dir)).result)
    return first, scratch, folder, tuned


def test_exported_champion_is_a_checkpoint_folder(exported):
    _, _, folder, _ = exported
    assert {"config.json", "model.safetensors", "vocab.json", "tokenizer_config.json"} <= {
        p.name for p in folder.iterdir()
    }
    from transformers import AutoModelForCTC

    model = AutoModelForCTC.from_pretrained(str(folder))
    assert model.config.model_type == "asrloop_ctc_transformer"
    assert model.config.feature_mean is not None  # its normalisation travels with it


def test_exported_champion_fine_tunes_from_where_it_stopped(exported):
    first, scratch, _, tuned = exported
    before, after = losses(first, scratch.run_id), losses(first, tuned.run_id)
    assert tuned.run_id != scratch.run_id and len(after) == 4
    assert after[0] < before[0] * 0.8  # it starts trained, not from scratch
    best = json.loads((Path(tuned.model_dir) / "vocab.json").read_text())
    assert best == json.loads((Path(scratch.model_dir) / "vocab.json").read_text())
