"""MLflow plumbing: one tracking URI for every step, resolved once from the project root.

The URI, first found wins: an explicit ``tracking.uri=...``, then ``MLFLOW_TRACKING_URI``, then
``tracking.default_uri`` (``sqlite:///mlflow.db`` under the project root, artifacts in
``<root>/mlartifacts``; the registry needs a database backend). ``tracking=server`` defaults to
the team server of ``make team-up``. Steps resolve a :class:`TrackingSettings` from the typed
``tracking`` settings (:class:`asrloop.settings.tracking.TrackingSettings`, imported here as
``TrackingConfig``) and pass it down. Nothing secret is logged: :func:`mask_secrets` blanks
credentials in URIs and secret-named keys of the params and the config artifact.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from asrloop.artifacts import RUN_CONFIG_ARTIFACT
from asrloop.errors import ConfigError
from asrloop.settings.tracking import TrackingSettings as TrackingConfig

T = TypeVar("T")
LOOP_RUN_ENV = "ASRLOOP_LOOP_RUN_ID"  # set by the loop: its steps become child runs
SWEEP_RUN_ENV = "ASRLOOP_SWEEP_RUN_ID"  # set for a Hydra multirun: one parent per sweep
ITERATION_ENV = "ASRLOOP_ITERATION"  # set by the loop: the iteration a step belongs to
URI_ENV = "MLFLOW_TRACKING_URI"
REGISTRY_ENV = "MLFLOW_REGISTRY_URI"
MASK = "***"
_URI_CREDENTIALS = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*):[^@/\s]+@")
_SECRET_KEY = re.compile(
    r"(password|passwd|secret|credential|access_key|key_id|api_key"
    r"|(auth|api|session|access)_token|^token$)",
    re.I,
)
_AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")


def mask_secrets(value: Any, key: str = "") -> Any:
    """``value`` with credentials blanked: ``user:password@`` in URIs, AWS key ids, and every
    value under a secret-sounding key (password, secret, access_key, api_key, auth_token...)."""
    if isinstance(value, Mapping):
        return {k: mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v, key) for v in value]
    if key and _SECRET_KEY.search(key) and value not in (None, ""):
        return MASK
    if isinstance(value, str):
        return _AWS_KEY_ID.sub(MASK, _URI_CREDENTIALS.sub(rf"\g<head>:{MASK}@", value))
    return value


def resolve_uri(explicit: str | None, default: str, root: Path) -> str:
    """The tracking URI: ``explicit``, else ``$MLFLOW_TRACKING_URI``, else ``default``; a
    relative SQLite path is taken from the project root (not the step's working folder)."""
    uri = explicit or os.environ.get(URI_ENV) or default
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.removeprefix(prefix).startswith("/"):
        uri = prefix + str(Path(root).resolve() / uri.removeprefix(prefix))
    return uri


@dataclass(frozen=True)
class TrackingSettings:
    """Where runs and registered models live (``conf/tracking``) and the project they track."""

    uri: str
    experiment: str
    registered_model: str
    champion_alias: str
    root: Path
    artifact_root: str | None = None
    log_params: tuple[str, ...] = ()  # config sections logged as run params

    @classmethod
    def resolve(cls, tracking: TrackingConfig, root: str | Path) -> TrackingSettings:
        """``conf/tracking`` for the project at ``root`` (the URI resolved)."""
        return cls(
            uri=resolve_uri(tracking.uri, str(tracking.default_uri), Path(root)),
            experiment=str(tracking.experiment),
            registered_model=str(tracking.registered_model),
            champion_alias=str(tracking.champion_alias),
            root=Path(root),
            artifact_root=tracking.artifact_root,
            log_params=tuple(tracking.log_params),
        )


def unvalidated_tracking(node: DictConfig) -> TrackingConfig:
    """The ``tracking`` node of a config Hydra composed and nobody validated (a multirun being
    launched; each of its jobs validates its own config), checked against the schema."""
    data = OmegaConf.to_container(node, resolve=True)
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(TrackingConfig), data))


LOCKED = "database is locked"
DUPLICATE_KEY = ("UNIQUE constraint failed", "duplicate key value")  # sqlite, PostgreSQL


def is_locked(error: BaseException) -> bool:
    """SQLite's "database is locked": another process (e.g. ``make ui``) holds it a moment."""
    return LOCKED in str(error)


def is_duplicate_insert(error: BaseException | None) -> bool:
    """A store's unique-key refusal (sqlite, PostgreSQL, or either behind a tracking server's
    REST reply), looked for through the error's causes: another process inserted the row."""
    while error is not None:
        if any(text in str(error) for text in DUPLICATE_KEY):
            return True
        error = error.__cause__
    return False


def retrying(
    call: Callable[[], T],
    attempts: int = 8,
    wait: float = 0.25,
    transient: Callable[[BaseException], bool] = is_locked,
) -> T:
    """``call()``, retried with backoff while its error is ``transient`` (by default SQLite's
    "database is locked"); any other error goes through at once."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:
            if not transient(error) or attempt == attempts - 1:
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


@contextmanager
def environment_kept(*names: str) -> Iterator[None]:
    """Undo what the block writes to these environment variables. ``mlflow.set_tracking_uri``
    exports the URI, which would then read as the user's ``MLFLOW_TRACKING_URI`` in the next
    project this process (or a child) opens."""
    before = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def setup(settings: TrackingSettings):
    """Point MLflow at the project's backend and experiment; returns the mlflow module."""
    import mlflow

    with environment_kept(URI_ENV, REGISTRY_ENV):
        mlflow.set_tracking_uri(settings.uri)
        mlflow.set_registry_uri(settings.uri)
    retrying(lambda: _ensure_experiment(mlflow, settings))
    _sqlite_wal(settings.uri)
    mlflow.set_experiment(settings.experiment)
    return mlflow


def _ensure_experiment(mlflow, settings: TrackingSettings) -> None:
    local = settings.uri.startswith(("sqlite:", "file:"))
    location, same = None, set()
    if local and settings.artifact_root:  # a server keeps its own artifact store
        location = Path(settings.artifact_root).absolute().as_uri()
        same = {location, Path(settings.artifact_root).resolve().as_uri()}
    experiment = mlflow.get_experiment_by_name(settings.experiment)
    if experiment is None:
        if location is not None:
            Path(settings.artifact_root).mkdir(parents=True, exist_ok=True)
        mlflow.create_experiment(settings.experiment, artifact_location=location)
        return
    stored = experiment.artifact_location
    if location is not None and stored.startswith("file:") and stored.rstrip("/") not in same:
        raise ConfigError(
            f"{settings.uri}: experiment {settings.experiment!r} keeps its artifacts in {stored}, "
            f"not in this project's {location}: a tracking database copied from another tree "
            "would write into that tree. Start a fresh one here (move mlflow.db aside) or point "
            "tracking.artifact_root at that folder on purpose"
        )


def portable(value: Any, root: str | Path) -> Any:
    """``value`` (a config, nested) with the project root left out of every path in it: paths
    inside the project are logged relative to it, so a copied tree's runs name its own files."""
    prefix = str(Path(root).resolve()).rstrip("/") + "/"
    if isinstance(value, Mapping):
        return {k: portable(v, root) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [portable(v, root) for v in value]
    if isinstance(value, str):
        return "." if value == prefix[:-1] else value.replace(prefix, "")
    return value


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
    """The parent run that groups a multirun's jobs: created once, by :class:`SweepParent`
    before any job starts (jobs launched as other processes, by submitit or joblib, inherit it
    from the environment), or else by the first job."""
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


class SweepParent(Callback):
    """Hydra callback (``conf/hydra/default.yaml``): the multirun's parent run, made in the
    launching process before the launcher starts any job."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        tracking = unvalidated_tracking(config.tracking)
        settings = TrackingSettings.resolve(tracking, config.paths.root)
        ensure_sweep_parent(settings, str(config.hydra.job.name))


def key_params(config: Mapping[str, Any], sections: Sequence[str]) -> dict[str, str]:
    """The listed config sections (``train``, ``corpus.splits``...) flattened to MLflow params,
    secrets masked, values cut to MLflow's 500 characters."""
    params: dict[str, str] = {}
    for section in sections:
        node: Any = config
        for part in section.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            params.update(flatten(mask_secrets(node, section), section + "."))
        elif node is not None:
            params[section] = mask_secrets(node, section)
    return {k: str(v)[:500] for k, v in params.items()}


@contextmanager
def step_run(
    settings: TrackingSettings,
    step: str,
    config: Mapping[str, Any],
    run_name: str | None = None,
) -> Iterator:
    """An MLflow run for one step: lineage tags, the key hyperparameters (``tracking.log_params``
    sections of ``config_snapshot``) as params and the whole resolved config as ``config.yaml``,
    secrets masked in both."""
    mlflow = setup(settings)
    nested = mlflow.active_run() is not None  # e.g. the gate inside the loop's parent run
    tags = run_tags(settings, step)
    if nested:
        tags.pop("mlflow.parentRunId", None)
    with mlflow.start_run(run_name=run_name or step, tags=tags, nested=nested) as run:
        config = portable(config, settings.root)
        params = key_params(config, settings.log_params)
        for start in range(0, len(params), 100):
            mlflow.log_params(dict(list(params.items())[start : start + 100]))
        masked = mask_secrets(dict(config))
        mlflow.log_text(OmegaConf.to_yaml(OmegaConf.create(masked)), RUN_CONFIG_ARTIFACT)
        yield run
