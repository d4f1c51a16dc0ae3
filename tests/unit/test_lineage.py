"""Corpus lineage in MLflow: runs that start together log one dataset row between them."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from asrloop.tracking import is_duplicate_insert

RUNS = 6


def _log_same_dataset(uri: str, barrier, attempts: int, results) -> None:
    import mlflow
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.data.sources import LocalArtifactDatasetSource

    from asrloop.model.lineage import log_dataset_input

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("race")
    source = LocalArtifactDatasetSource("data/corpus")
    dataset = MetaDataset(source, name="data/corpus", digest="d1")
    with mlflow.start_run():
        barrier.wait()
        try:
            log_dataset_input(mlflow, dataset, "training", {"corpus_version": "v1"}, attempts)
            results.put("ok")
        except Exception as error:  # reported to the parent, which asserts on it
            results.put(f"{type(error).__name__}: {error}"[:300])


def race(uri: str, attempts: int) -> list[str]:
    """RUNS processes, released together, each logging the same new dataset to its own run."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("race")  # created once, before the race
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(RUNS), context.Queue()
    workers = [
        context.Process(target=_log_same_dataset, args=(uri, barrier, attempts, results))
        for _ in range(RUNS)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


def test_runs_that_log_a_new_corpus_version_together_share_one_dataset_row(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    outcomes = race(uri, attempts=5)
    assert outcomes == ["ok"] * RUNS

    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("race")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == RUNS
    logged = {(i.dataset.name, i.dataset.digest) for run in runs for i in run.inputs.dataset_inputs}
    assert logged == {("data/corpus", "d1")}
    with sqlite3.connect(tmp_path / "mlflow.db") as db:
        assert db.execute("SELECT COUNT(*) FROM datasets").fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM inputs").fetchone() == (RUNS,)


@pytest.mark.parametrize(
    ("text", "duplicate"),
    [
        ("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.name", True),
        ('duplicate key value violates unique constraint "dataset_pk"', True),
        ("database is locked", False),
    ],
)
def test_only_a_unique_key_refusal_is_retried(text, duplicate):
    wrapped = RuntimeError("INTERNAL_ERROR")
    wrapped.__cause__ = ValueError(text)
    assert is_duplicate_insert(wrapped) is duplicate
