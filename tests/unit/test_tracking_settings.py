"""Tracking URI precedence, secrets kept out of MLflow and git, and a params.yaml that is the
same in every clone."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from asrloop.config import compose, config_snapshot, load_params
from asrloop.errors import ConfigError
from asrloop.pipeline import write_params
from asrloop.settings import typed
from asrloop.tracking import TrackingSettings, key_params, mask_secrets


def settings(*overrides: str, root="/srv/project") -> TrackingSettings:
    return TrackingSettings.resolve(typed(compose([*overrides])).tracking, root)


def test_override_then_environment_then_sqlite_default(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert settings().uri == "sqlite:////srv/project/mlflow.db"  # under the root, not the cwd
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://team:5000")
    assert settings().uri == "http://team:5000"
    assert settings("tracking.uri=http://override:5000").uri == "http://override:5000"


def test_server_option_defaults_to_the_local_team_stack(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    server = settings("tracking=server")
    assert server.uri == "http://127.0.0.1:5050" and server.artifact_root is None
    assert server.registered_model == settings().registered_model
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example:443")
    assert settings("tracking=server").uri == "https://mlflow.example:443"


def test_credentials_are_masked_everywhere_they_could_be_logged():
    config = {
        "tracking": {"uri": "postgresql://mlflow:hunter2@db:5432/mlflow"},
        "remote": {
            "url": "s3://bucket/x",
            "secret_access_key": "abc",
            "note": "AKIAABCDEFGHIJKLMNOP",
        },
        "train": {"lr": 0.1, "unk_token": "<unk>"},
    }
    masked = mask_secrets(config)
    text = str(masked)
    assert "hunter2" not in text and "abc" not in text and "AKIA" not in text
    assert masked["tracking"]["uri"] == "postgresql://mlflow:***@db:5432/mlflow"
    assert masked["train"] == config["train"] and masked["remote"]["url"] == "s3://bucket/x"
    params = key_params(config, ["tracking", "train.lr"])
    assert params == {"tracking.uri": "postgresql://mlflow:***@db:5432/mlflow", "train.lr": "0.1"}


def test_key_hyperparameters_only_are_params():
    cfg = compose(["train.optimizer.lr=0.002"])
    params = key_params(config_snapshot(cfg), settings().log_params)
    assert params["train.optimizer.lr"] == "0.002" and params["model.config.d_model"]
    assert not [k for k in params if k.startswith(("paths.", "scenario.", "corpus.text"))]


def test_params_file_is_the_same_in_every_clone(tmp_path):
    texts = []
    for clone in ("a", "b"):
        root = tmp_path / clone
        texts.append(write_params(compose([f"paths.root={root}"])).read_text())
    assert texts[0] == texts[1] and str(tmp_path) not in texts[0]
    cfg = load_params(tmp_path / "b" / "pipelines" / "params.yaml", ["train.max_steps=3"])
    assert cfg.paths.root == str(tmp_path / "b")
    assert cfg.train.output_dir == str(tmp_path / "b" / "models" / "current")
    assert cfg.evaluate.model == str(tmp_path / "b" / "models" / "current" / "best")
    assert cfg.train.max_steps == 3


def test_an_older_absolute_params_file_is_rerooted(tmp_path):
    old = OmegaConf.create({"paths": {"root": "/old/place", "data": "/old/place/data"}})
    (tmp_path / "pipelines").mkdir()
    OmegaConf.save(old, tmp_path / "pipelines" / "params.yaml")
    cfg = load_params(tmp_path / "pipelines" / "params.yaml")
    assert cfg.paths.data == str(tmp_path / "data")


def test_credentials_never_reach_the_committed_params_file(tmp_path):
    cfg = compose([f"paths.root={tmp_path}", "tracking.uri=postgresql://u:secret@db/mlflow"])
    with pytest.raises(ConfigError, match="MLFLOW_TRACKING_URI"):
        write_params(cfg)
    assert not (tmp_path / "pipelines" / "params.yaml").exists()
