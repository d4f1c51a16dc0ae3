"""Clusters through Hydra's launchers, end to end on this machine: a 2-job multirun through
submitit's local executor (the SLURM launcher's code path) and through joblib, one job whose
two tasks train it with DDP (as on SLURM with tasks_per_node=2), and the Optuna sweep. Each job
is one MLflow run under one sweep parent, with its own output folder.
About 2.5 minutes on 2 cores: `make test-ddp` (part of `make test-all`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from asrloop.artifacts import ModelOutput
from asrloop.records import TrainingResult
from tests.helpers import TINY_CORPUS, corpus_project

pytestmark = pytest.mark.ddp

BIN = Path(sys.executable).parent
SMALL = [
    *TINY_CORPUS,
    "model.config.d_model=64",
    "model.config.num_heads=2",
    "model.config.ff_dim=128",
    "model.config.num_layers=2",
    "train.max_batch_frames=3000",
    "train.eval_every=1000",
    "train.max_steps=3",
    "train.register=false",
    "trainer.threads=1",
]


@pytest.fixture(scope="module")
def project(tiny_corpus, tmp_path_factory):
    return corpus_project(tiny_corpus[1], tmp_path_factory.mktemp("launchers"))


def multirun(root: Path, experiment: str, *args: str) -> str:
    command = [
        str(BIN / "asrloop"),
        "train",
        "-m",
        f"paths.root={root}",
        f"paths.models={root}/models-{experiment}",  # each test its own checkpoints
        f"tracking.experiment={experiment}",
        *SMALL,
        *args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, check=False, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


def runs(root: Path, experiment: str) -> list:
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id])


def assert_two_jobs_under_one_parent(root: Path, experiment: str) -> None:
    all_runs = runs(root, experiment)
    parents = [r for r in all_runs if r.data.tags.get("step") == "sweep"]
    jobs = [r for r in all_runs if r.data.tags.get("step") == "train"]
    assert len(parents) == 1 and len(jobs) == 2
    assert {r.data.tags["mlflow.parentRunId"] for r in jobs} == {parents[0].info.run_id}
    assert sorted(r.data.params["train.optimizer.lr"] for r in jobs) == ["0.001", "0.002"]
    for job in (0, 1):
        folder = root / f"models-{experiment}" / "multirun" / str(job)
        result = TrainingResult.load(ModelOutput(folder).result)
        assert result.steps == 3 and result.run_id in {r.info.run_id for r in jobs}


def test_submitit_local_executor_runs_a_two_job_multirun(project):
    multirun(project, "submitit", "launcher=submitit_local", "train.optimizer.lr=0.001,0.002")
    assert_two_jobs_under_one_parent(project, "submitit")
    logs = list((project / "multirun").rglob(".submitit/*/*_log.out"))
    assert len(logs) == 2  # each job ran as a submitit job of its own


def test_submitit_tasks_train_one_job_with_ddp(project):
    """tasks_per_node=2: the job's two tasks are DDP ranks (from submitit's job environment)."""
    multirun(
        project,
        "tasks",
        "launcher=submitit_local",
        "hydra.launcher.tasks_per_node=2",
        "train.register=true",
    )
    sweep = max((project / "multirun").iterdir())  # this multirun's folder (newest)
    [first, second] = sorted(sweep.rglob(".submitit/*/*_log.err"))  # task 0, task 1
    assert "x 2 processes (DDP)" in first.read_text()
    assert "training on" not in second.read_text()  # rank 1 reports nothing
    jobs = [r for r in runs(project, "tasks") if r.data.tags.get("step") == "train"]
    assert len(jobs) == 1
    versions = mlflow.MlflowClient().search_model_versions(f"run_id='{jobs[0].info.run_id}'")
    assert len(versions) == 1


def test_joblib_runs_jobs_side_by_side(project):
    multirun(project, "joblib", "launcher=local_parallel", "train.optimizer.lr=0.001,0.002")
    assert_two_jobs_under_one_parent(project, "joblib")


def test_optuna_sweep_still_works(project):
    output = multirun(project, "optuna", "hparams_search=optuna", "hydra.sweeper.n_trials=2")
    trials = [r for r in runs(project, "optuna") if r.data.tags.get("step") == "train"]
    assert len(trials) == 2 and "Best value" in output
