"""Training streamed from a packed corpus (``train_data=stream``): the folder path's model bit for
bit when the plan is the same, and a stopped run resumes where it stopped."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
import torch

from asrloop.artifacts import ModelOutput
from asrloop.corpus.packed import ShardStore
from asrloop.distributed import Distributed
from asrloop.faults import FAULT_ENV
from asrloop.records import TrainingResult
from asrloop.steps import corpus_pack, train, vocab_build
from tests.helpers import (
    FAST_TRAINING,
    TINY_CORPUS,
    asrloop_cli,
    copy_corpus,
    make_cfg,
    streamed,
)

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


def test_a_streamed_fine_tune_replays_base_shards_and_refreshes_the_pack(tiny_corpus, tmp_path):
    """The corpus grew after packing: training packs the new shard folder first, then each
    epoch holds the grown clips (``grown_repeat`` times) and base shards worth ``replay``."""
    copy_corpus(tiny_corpus[1], tmp_path)
    args = [*TINY_CORPUS, *FAST_TRAINING, *STREAM, "train.register=false", "train.epochs=2"]
    cfg = make_cfg(tmp_path, *args, "train.replay=0.5", "train.grown_repeat=2")
    vocab_build.run(cfg)
    corpus_pack.run(cfg)
    grown = Path(cfg.paths.grown_corpus) / "drop-1"
    shutil.copytree(Path(cfg.paths.base_corpus) / "train-001", grown)
    manifest = grown / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"source": "', '"source": "drop/d1-'))
    train.run(cfg)
    index = ShardStore(tmp_path / "data" / "packed", tmp_path).index()
    assert any(shard.source == "grown/drop-1" for shard in index.shards)
    data = streamed(tmp_path / "data" / "packed", buffer=1000, shuffle=True)
    planned = sum(
        len(data.epoch(e, Distributed(), 3000, replay=0.5, grown_repeat=2)) for e in (0, 1)
    )
    result = TrainingResult.load(ModelOutput(Path(cfg.train.output_dir)).result)
    assert result.steps == planned
