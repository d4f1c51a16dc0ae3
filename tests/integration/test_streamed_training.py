"""Training streamed from a packed corpus (``train_data=stream``): the folder path's model bit for
bit when the plan is the same, and a stopped run resumes where it stopped."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch

from asrloop.artifacts import ModelOutput
from asrloop.errors import ConfigError
from asrloop.faults import FAULT_ENV
from asrloop.steps import corpus_pack, train, vocab_build
from tests.helpers import FAST_TRAINING, TINY_CORPUS, asrloop_cli, copy_corpus, make_cfg

STREAM = ["train_data=stream", "train_data.clips_per_shard=7"]


def trained(source: Path, root: Path, *overrides: str, pack: bool = True):
    """(dev CER, final weights) of a short run on a copy of ``source``'s corpus."""
    copy_corpus(source, root)
    cfg = make_cfg(root, *TINY_CORPUS, *FAST_TRAINING, "train.register=false", *overrides)
    vocab_build.run(cfg)
    if pack:
        corpus_pack.run(cfg)
    cer = train.run(cfg)
    saved = torch.load(ModelOutput(Path(cfg.train.output_dir)).checkpoint, weights_only=True)
    return cer, saved["model"]


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_stream_planned_like_the_folders_trains_the_same_model(tiny_corpus, tmp_path):
    steps = "train.max_steps=10"
    folders = trained(tiny_corpus[1], tmp_path / "folders", steps, pack=False)
    whole = ["train_data.buffer_clips=100000", "train_data.shuffle_shards=false"]
    stream = trained(tiny_corpus[1], tmp_path / "stream", steps, *STREAM, *whole)
    assert stream[0] == folders[0]
    assert same_weights(stream[1], folders[1])


@pytest.mark.parametrize("source", ["folders", "stream"])
def test_a_killed_run_resumes_to_the_uninterrupted_runs_weights(tiny_corpus, tmp_path, source):
    """Bit for bit: the batches (a stream's small windows and per-epoch shard order included),
    the optimizer, dropout's and augmentation's random draws all continue where they were."""
    data = [*STREAM, "train_data.buffer_clips=10"] if source == "stream" else []
    stream = [*data, "train.epochs=3", "train.checkpoint_every=4"]
    straight = trained(tiny_corpus[1], tmp_path / "straight", *stream, pack=bool(data))
    root = tmp_path / "killed"
    copy_corpus(tiny_corpus[1], root)
    args = [f"paths.root={root}", *TINY_CORPUS, *FAST_TRAINING, "train.register=false", *stream]
    asrloop_cli(root, "vocab", "build", *args)
    if data:
        asrloop_cli(root, "corpus", "pack", *args)
    env = {**os.environ, FAULT_ENV: "train.checkpoint@3"}  # dies writing step 12's checkpoint
    killed = asrloop_cli(root, "train", *args, env=env, check=False)
    assert killed.returncode == -signal.SIGKILL
    output = ModelOutput(root / "models" / "current")
    assert torch.load(output.checkpoint, weights_only=True)["state"]["step"] == 8
    resumed = asrloop_cli(root, "train", *args)
    assert "resuming from step 8" in resumed.stderr
    saved = torch.load(output.checkpoint, weights_only=True)
    assert (
        saved["state"]["step"]
        == torch.load(
            ModelOutput(tmp_path / "straight" / "models" / "current").checkpoint, weights_only=True
        )["state"]["step"]
    )
    assert same_weights(saved["model"], straight[1])


def test_grown_rows_with_replay_need_the_folders(tiny_corpus, tmp_path):
    copy_corpus(tiny_corpus[1], tmp_path)
    cfg = make_cfg(tmp_path, *TINY_CORPUS, *FAST_TRAINING, *STREAM, "train.replay=2")
    manifest = next(Path(cfg.paths.base_corpus).glob("train-*/manifest.jsonl"))
    manifest.write_text(manifest.read_text().replace('"source": "', '"source": "drop/d1-'))
    vocab_build.run(cfg)
    corpus_pack.run(cfg)
    with pytest.raises(ConfigError, match=r"train\.replay need train_data=folders"):
        train.run(cfg)
