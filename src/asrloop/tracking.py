"""MLflow plumbing: one tracking URI for every step, resolved once from the project root.

Default: ``sqlite:///<root>/mlflow.db`` with artifacts in ``<root>/mlartifacts`` (the registry
needs a database backend). A team server is one override away: ``tracking.uri=http://...``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

LOOP_RUN_ENV = "ASRLOOP_LOOP_RUN_ID"  # set by the loop: its steps become child runs
SWEEP_RUN_ENV = "ASRLOOP_SWEEP_RUN_ID"  # set for a Hydra multirun: one parent per sweep


def tracking_uri(cfg: DictConfig) -> str:
    return str(cfg.tracking.uri)


def setup(cfg: DictConfig):
    """Point MLflow at the project's backend and experiment; returns the mlflow module."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri(cfg))
    mlflow.set_registry_uri(tracking_uri(cfg))
    if mlflow.get_experiment_by_name(cfg.tracking.experiment) is None:
        local = tracking_uri(cfg).startswith(("sqlite:", "file:"))
        location = None
        if local and cfg.tracking.get("artifact_root"):  # a server keeps its own artifact store
            Path(cfg.tracking.artifact_root).mkdir(parents=True, exist_ok=True)
            location = Path(cfg.tracking.artifact_root).as_uri()
        mlflow.create_experiment(cfg.tracking.experiment, artifact_location=location)
    mlflow.set_experiment(cfg.tracking.experiment)
    return mlflow


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


def run_tags(cfg: DictConfig, step: str) -> dict[str, str]:
    tags = {"step": step, **git_tags(cfg.paths.root)}
    loop_id = os.environ.get(LOOP_RUN_ENV)
    if loop_id:
        tags["loop_run_id"] = loop_id
        tags["mlflow.parentRunId"] = loop_id
    sweep_id = os.environ.get(SWEEP_RUN_ENV)
    if sweep_id and not loop_id:
        tags["sweep_run_id"] = sweep_id
        tags["mlflow.parentRunId"] = sweep_id
    iteration = os.environ.get("ASRLOOP_ITERATION")
    if iteration is not None:
        tags["loop_iteration"] = iteration
    return tags


def ensure_sweep_parent(cfg: DictConfig, name: str) -> str:
    """The parent run that groups a multirun's jobs (created by the first job)."""
    if os.environ.get(SWEEP_RUN_ENV):
        return os.environ[SWEEP_RUN_ENV]
    mlflow = setup(cfg)
    client = mlflow.MlflowClient()
    experiment = mlflow.get_experiment_by_name(cfg.tracking.experiment)
    run = client.create_run(
        experiment.experiment_id,
        run_name=f"sweep: {name}",
        tags={"step": "sweep", **git_tags(cfg.paths.root)},
    )
    client.set_terminated(run.info.run_id)
    os.environ[SWEEP_RUN_ENV] = run.info.run_id
    return run.info.run_id


@contextmanager
def step_run(cfg: DictConfig, step: str, run_name: str | None = None) -> Iterator:
    """An MLflow run for one step: tags for lineage, the resolved config as params + YAML."""
    mlflow = setup(cfg)
    nested = mlflow.active_run() is not None  # e.g. the gate inside the loop's parent run
    tags = run_tags(cfg, step)
    if nested:
        tags.pop("mlflow.parentRunId", None)
    with mlflow.start_run(run_name=run_name or step, tags=tags, nested=nested) as run:
        container = OmegaConf.to_container(cfg, resolve=True)
        container.pop("hydra", None)
        params = {k: v for k, v in flatten(container).items() if not k.startswith("corpus.text")}
        for start in range(0, len(params), 100):
            chunk = dict(list(params.items())[start : start + 100])
            mlflow.log_params({k: str(v)[:500] for k, v in chunk.items()})
        mlflow.log_text(OmegaConf.to_yaml(container), "config.yaml")
        yield run
