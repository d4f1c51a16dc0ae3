"""Training streamed from tar shards in S3: the corpus packed, pushed by DVC to the team stack's
S3 endpoint (moto, 127.0.0.1), and trained on by a checkout holding no copy of it (no packed
folder, no DVC cache, no train shard folders); then evaluated on the Ray cluster. The same
model and the same metrics as training on local folders and evaluating in this process."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from asrloop.artifacts import ModelOutput
from asrloop.team import TeamStack
from tests.helpers import (
    FAST_TRAINING,
    TINY_CORPUS,
    asrloop_cli,
    copy_corpus,
    init_project_repo,
    s3_client,
    team_stack,
)

pytestmark = pytest.mark.scale
TRAINING = [*TINY_CORPUS, *FAST_TRAINING, "train.max_steps=30"]
# one process, shards in manifest order, one window: the folder path's batches exactly
STREAM = [
    "train_data=stream",
    "train_data.clips_per_shard=7",
    "train_data.buffer_clips=100000",
    "train_data.shuffle_shards=false",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The team stack up; a project (git + DVC) whose default DVC remote is its S3 bucket."""
    root = init_project_repo(tmp_path_factory.mktemp("stream") / "project")
    with team_stack(root) as (team, env):
        yield team, root, env


def s3_objects(team: TeamStack, env: dict) -> dict[str, int]:
    listed = s3_client(team, env).list_objects_v2(Bucket=team.bucket, Prefix="dvc/")
    return {item["Key"]: item["Size"] for item in listed.get("Contents", [])}


def trained_and_evaluated(root: Path, env: dict, train: list[str], evaluate: list[str]):
    """(final weights, eval metrics without speeds) of training then evaluating in ``root``."""
    asrloop_cli(root, "train", *train, env=env)
    asrloop_cli(root, "evaluate", *evaluate, env=env)
    weights = torch.load(ModelOutput(root / "models" / "current").checkpoint, weights_only=True)
    metrics = json.loads((root / "reports" / "metrics" / "eval.json").read_text())
    speedless = {s: {k: v for k, v in m.items() if "rtf" not in k} for s, m in metrics.items()}
    return weights["model"], speedless


def test_training_streamed_from_s3_gives_the_folder_model_and_metrics(
    stack, tiny_corpus, cluster, tmp_path
):
    team, root, env = stack
    copy_corpus(tiny_corpus[1], root)
    args = [f"paths.root={root}", *TRAINING, *STREAM]
    asrloop_cli(root, "vocab", "build", *args, env=env)
    asrloop_cli(root, "corpus", "pack", *args, env=env)  # dvc add + push to the bucket
    index = json.loads((root / "data" / "packed" / "index.json").read_text())
    tar_sizes = {
        shard["name"]: (root / "data" / "packed" / f"{shard['name']}.tar").stat().st_size
        for shard in index["shards"]
    }
    pushed = s3_objects(team, env)
    assert sorted(tar_sizes.values()) == sorted(
        size for size in pushed.values() if size in tar_sizes.values()
    )
    # the training machine: a checkout with the pointer and no data
    shutil.rmtree(root / "data" / "packed")
    shutil.rmtree(root / ".dvc" / "cache", ignore_errors=True)
    for shard in (root / "data" / "corpus" / "base").glob("train-*"):
        shutil.rmtree(shard)
    on_ray = ["executor=ray", f"executor.address={cluster}"]
    streamed = trained_and_evaluated(
        root, env, [*args, f"train_data.remote={team.dvc_remote}"], [*args, *on_ray]
    )
    assert not (root / "data" / "packed").exists()
    cached = [p for p in (root / ".dvc").rglob("*") if p.is_file() and p.stat().st_size > 50_000]
    assert not cached  # streamed, not downloaded

    local = tmp_path / "local"
    copy_corpus(tiny_corpus[1], local)
    folder_args = [f"paths.root={local}", *TRAINING]
    asrloop_cli(local, "vocab", "build", *folder_args)
    folders = trained_and_evaluated(local, dict(os.environ), folder_args, folder_args)

    assert streamed[0].keys() == folders[0].keys()
    assert all(torch.equal(streamed[0][k], folders[0][k]) for k in folders[0])
    assert streamed[1] == folders[1] and streamed[1]["test"]["wer"] >= 0


DECISIONS = (  # what a loop decided and measured, per iteration (not run ids or timings)
    "model_version",
    "promoted",
    "gate_reason",
    "term_recall",
    "term_precision",
    "test_wer",
    "test_cer",
    "regression_wer",
    "heldout_drop_wer",
    "heldout_b_wer",
    "heldout_u_wer",
    "false_alarm_rate",
    "wer_intervals",
    "recall_intervals",
    "new_words",
)


def test_a_tiny_loop_on_ray_and_streamed_shards_decides_as_the_local_run(cluster, tmp_path):
    """``make loop`` with training streamed from the packed corpus (brought up to date with the
    grown corpus before each training) and every batch step on the Ray cluster: the same
    decisions and metrics as the same loop in this machine's processes."""

    def loop(name: str, *overrides: str) -> list[dict]:
        root = init_project_repo(tmp_path / name)
        # the same arithmetic whatever else runs: step budgets, not experiment=tiny's time boxes
        # (a busier machine would train fewer steps), and threads pinned (`auto` counts the
        # cores other processes keep busy; another thread count sums in another order)
        pinned = [
            "trainer.threads=2",
            "train.max_steps=300",
            "train.max_minutes=10",
            "+train.finetune_when_grown.max_steps=100",
            "train.finetune_when_grown.max_minutes=5",
            "train_data=stream",
        ]
        asrloop_cli(root, "loop", "experiment=tiny", *pinned, *overrides)
        index = json.loads((root / "data" / "packed" / "index.json").read_text())
        assert any(shard["source"].startswith("grown/") for shard in index["shards"])
        summary = json.loads((root / "reports" / "loop" / "summary.json").read_text())
        return [{k: it.get(k) for k in DECISIONS} for it in summary["iterations"]]

    local = loop("local")
    on_ray = loop("ray", "executor=ray", f"executor.address={cluster}")
    assert len(local) == 2 and local[0]["promoted"]
    assert on_ray == local
