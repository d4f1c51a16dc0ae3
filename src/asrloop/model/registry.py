"""The MLflow model registry: register a trained model, load one by alias or version, promote.

A registered version is an MLflow pyfunc whose artifacts are the ``save_pretrained`` folder
(with ``vocab.json``) and the vocabulary folder it was decoded with; ``mlflow.pyfunc.load_model``
gives a transcriber, and :func:`load_registered` gives the torch model for training and serving.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import mlflow.pyfunc
from omegaconf import DictConfig

from asrloop import tracking
from asrloop.text.tokenizer import CharTokenizer


class Transcriber(mlflow.pyfunc.PythonModel):
    """pyfunc flavour: ``predict(list_of_wav_paths) -> list_of_texts`` (greedy + lexicon if any)."""

    def load_context(self, context):
        from asrloop.serve.recognizer import Recognizer

        vocab = context.artifacts.get("vocab_dir")
        self.recognizer = Recognizer.from_dirs(context.artifacts["model_dir"], vocab)

    def predict(self, context, model_input: list[str], params=None) -> list[str]:
        return [self.recognizer.transcribe_file(path)["text"] for path in model_input]


def _model_uri(name: str, ref: str) -> str:
    return f"models:/{name}/{ref}" if ref.isdigit() else f"models:/{name}@{ref}"


def register_model(cfg: DictConfig, model_dir: Path, run_id: str, parent: str | None) -> str:
    """Log ``model_dir`` (+ vocabulary) as a pyfunc in the active run and register it."""
    mlflow = tracking.setup(cfg)
    artifacts = {"model_dir": str(model_dir)}
    vocab_dir = Path(cfg.paths.vocab)
    tags = tracking.run_tags(cfg, "train")
    if (vocab_dir / "version.json").exists():
        artifacts["vocab_dir"] = str(vocab_dir)
        tags["vocab_version"] = json.loads((vocab_dir / "version.json").read_text())[
            "vocab_version"
        ]
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=Transcriber(),
        artifacts=artifacts,
        pip_requirements=["asrloop"],
        registered_model_name=cfg.tracking.registered_model,
    )
    version = str(info.registered_model_version)
    client = mlflow.MlflowClient()
    for key in ("corpus_version", "vocab_version", "git_commit", "loop_iteration"):
        if key in tags:
            client.set_model_version_tag(cfg.tracking.registered_model, version, key, tags[key])
    client.set_model_version_tag(cfg.tracking.registered_model, version, "run_id", run_id)
    client.set_model_version_tag(
        cfg.tracking.registered_model, version, "warm_start_from", parent or "none"
    )
    return version


def download_version(cfg: DictConfig, ref: str) -> tuple[Path, str]:
    """Local copy of a registered version's artifacts; ``ref`` is an alias or a version."""
    mlflow = tracking.setup(cfg)
    client = mlflow.MlflowClient()
    name = cfg.tracking.registered_model
    mv = (
        client.get_model_version(name, ref)
        if ref.isdigit()
        else client.get_model_version_by_alias(name, ref)
    )
    target = Path(tempfile.mkdtemp(prefix=f"asrloop-{name}-v{mv.version}-"))
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=_model_uri(name, str(mv.version)), dst_path=str(target)
    )
    return Path(local), str(mv.version)


def artifact_dirs(local: Path) -> tuple[Path, Path | None]:
    """(model folder, vocabulary folder or None) inside a downloaded pyfunc."""
    model_dir = next(
        p.parent for p in local.rglob("vocab.json") if (p.parent / "config.json").exists()
    )
    vocab = [p.parent for p in local.rglob("lexicon.txt")]
    return model_dir, (vocab[0] if vocab else None)


def load_registered(cfg: DictConfig, ref: str):
    """(model, tokenizer, version) for an alias such as ``champion`` or a version number."""
    from asrloop.model.factory import load_model

    local, version = download_version(cfg, ref)
    model_dir, _ = artifact_dirs(local)
    model, tokenizer = load_model(model_dir), CharTokenizer.load(model_dir)
    shutil.rmtree(local, ignore_errors=True)
    return model, tokenizer, version


def alias_version(cfg: DictConfig, alias: str) -> str | None:
    """The version an alias points to, or None (no model registered yet, or no such alias)."""
    mlflow = tracking.setup(cfg)
    try:
        return str(
            mlflow.MlflowClient()
            .get_model_version_by_alias(cfg.tracking.registered_model, alias)
            .version
        )
    except mlflow.exceptions.MlflowException:
        return None


def set_alias(cfg: DictConfig, version: str, alias: str) -> None:
    mlflow = tracking.setup(cfg)
    mlflow.MlflowClient().set_registered_model_alias(cfg.tracking.registered_model, alias, version)


def tag_version(cfg: DictConfig, version: str, key: str, value: str) -> None:
    mlflow = tracking.setup(cfg)
    mlflow.MlflowClient().set_model_version_tag(cfg.tracking.registered_model, version, key, value)
