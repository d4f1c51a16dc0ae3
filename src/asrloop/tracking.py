"""MLflow plumbing: one tracking URI for every step, resolved once from the project root.

Default: ``sqlite:///<root>/mlflow.db`` with artifacts in ``<root>/mlartifacts`` (the registry
needs a database backend). A team server is one override away: ``tracking.uri=http://...``.
Steps build a :class:`TrackingSettings` from ``cfg.tracking`` and pass it down.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf

T = TypeVar("T")
LOOP_RUN_ENV = "ASRLOOP_LOOP_RUN_ID"  # set by the loop: its steps become child runs
SWEEP_RUN_ENV = "ASRLOOP_SWEEP_RUN_ID"  # set for a Hydra multirun: one parent per sweep
ITERATION_ENV = "ASRLOOP_ITERATION"  # set by the loop: the iteration a step belongs to


@dataclass(frozen=True)
class TrackingSettings:
    """Where runs and registered models live (``conf/tracking``) and the project they track."""

    uri: str
    experiment: str
    registered_model: str
    champion_alias: str
    root: Path
    artifact_root: str | None = None

    @classmethod
    def from_config(cls, tracking_cfg: DictConfig, root: str | Path) -> TrackingSettings:
        return cls(
            uri=str(tracking_cfg.uri),
            experiment=str(tracking_cfg.experiment),
            registered_model=str(tracking_cfg.registered_model),
            champion_alias=str(tracking_cfg.champion_alias),
            root=Path(root),
            artifact_root=tracking_cfg.get("artifact_root"),
        )


LOCKED = "database is locked"


def retrying(call: Callable[[], T], attempts: int = 8, wait: float = 0.25) -> T:
    """``call()``, retried with backoff while SQLite says "database is locked" (another process,
    e.g. ``make ui``, holds it for a moment); any other error goes through at once."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:
            if LOCKED not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(wait * 2**attempt)
    raise AssertionError("unreachable")


def _sqlite_wal(uri: str) -> None:
    """Readers (the UI) and the loop's writes do not block each other in WAL mode."""
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri.removeprefix("sqlite:///"))
    if path.exists():
        with sqlite3.connect(path, timeout=30) as connection:
            connection.execute("PRAGMA journal_mode=WAL")


def setup(settings: TrackingSettings):
    """Point MLflow at the project's backend and experiment; returns the mlflow module."""
    import mlflow

    mlflow.set_tracking_uri(settings.uri)
    mlflow.set_registry_uri(settings.uri)
    retrying(lambda: _ensure_experiment(mlflow, settings))
    _sqlite_wal(settings.uri)
    mlflow.set_experiment(settings.experiment)
    return mlflow


def _ensure_experiment(mlflow, settings: TrackingSettings) -> None:
    if mlflow.get_experiment_by_name(settings.experiment) is None:
        local = settings.uri.startswith(("sqlite:", "file:"))
        location = None
        if local and settings.artifact_root:  # a server keeps its own artifact store
            Path(settings.artifact_root).mkdir(parents=True, exist_ok=True)
            location = Path(settings.artifact_root).as_uri()
        mlflow.create_experiment(settings.experiment, artifact_location=location)


def flatten(data: Mapping, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list) and len(str(value)) > 250:
            out[name] = f"[{len(value)} items]"
        else:
            out[name] = value
    return out


def git_tags(root: str | Path) -> dict[str, str]:
    """Commit, dirty flag and latest corpus tag of the project repo (empty when not a repo)."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {}
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    corpus_tag = git("describe", "--tags", "--match", "corpus-v*", "--abbrev=0")
    return {
        "git_commit": commit,
        "git_dirty": str(dirty).lower(),
        "corpus_version": corpus_tag or "untagged",
    }


def run_tags(settings: TrackingSettings, step: str) -> dict[str, str]:
    tags = {"step": step, **git_tags(settings.root)}
    loop_id = os.environ.get(LOOP_RUN_ENV)
    if loop_id:
        tags["loop_run_id"] = loop_id
        tags["mlflow.parentRunId"] = loop_id
    sweep_id = os.environ.get(SWEEP_RUN_ENV)
    if sweep_id and not loop_id:
        tags["sweep_run_id"] = sweep_id
        tags["mlflow.parentRunId"] = sweep_id
    iteration = os.environ.get(ITERATION_ENV)
    if iteration is not None:
        tags["loop_iteration"] = iteration
    return tags


def ensure_sweep_parent(settings: TrackingSettings, name: str) -> str:
    """The parent run that groups a multirun's jobs (created by the first job)."""
    if os.environ.get(SWEEP_RUN_ENV):
        return os.environ[SWEEP_RUN_ENV]
    mlflow = setup(settings)
    client = mlflow.MlflowClient()
    experiment = mlflow.get_experiment_by_name(settings.experiment)
    run = client.create_run(
        experiment.experiment_id,
        run_name=f"sweep: {name}",
        tags={"step": "sweep", **git_tags(settings.root)},
    )
    client.set_terminated(run.info.run_id)
    os.environ[SWEEP_RUN_ENV] = run.info.run_id
    return run.info.run_id


@contextmanager
def step_run(
    settings: TrackingSettings,
    step: str,
    config: Mapping[str, Any],
    run_name: str | None = None,
) -> Iterator:
    """An MLflow run for one step: lineage tags, the config (``config_snapshot``) as params and
    as ``config.yaml``."""
    mlflow = setup(settings)
    nested = mlflow.active_run() is not None  # e.g. the gate inside the loop's parent run
    tags = run_tags(settings, step)
    if nested:
        tags.pop("mlflow.parentRunId", None)
    with mlflow.start_run(run_name=run_name or step, tags=tags, nested=nested) as run:
        params = {k: v for k, v in flatten(config).items() if not k.startswith("corpus.text")}
        for start in range(0, len(params), 100):
            chunk = dict(list(params.items())[start : start + 100])
            mlflow.log_params({k: str(v)[:500] for k, v in chunk.items()})
        mlflow.log_text(OmegaConf.to_yaml(OmegaConf.create(dict(config))), "config.yaml")
        yield run
