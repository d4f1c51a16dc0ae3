"""The MLflow model registry: register a trained model, check out a version, move aliases.

A registered version is an MLflow pyfunc whose artifacts are the model folder (``save_pretrained``
+ ``vocab.json``, loadable by transformers alone), the vocabulary folder it decodes with and
``serving.json`` (its decode and feature settings); the pyfunc itself, its signature, code and
requirements come from :func:`asrloop.inference.pyfunc.pyfunc_model`. :meth:`Registry.checkout`
downloads a version into a temporary folder that is removed when the ``with`` block ends;
:meth:`Registry.load_model` gives the torch model and its processor for a warm start.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asrloop import tracking
from asrloop.artifacts import LEXICON, VOCAB_VERSION, vocab_version
from asrloop.errors import RegistryError
from asrloop.faults import fault_point
from asrloop.tracking import TrackingSettings


@dataclass(frozen=True)
class CheckedOutVersion:
    """A registered version's files on local disk (valid inside :meth:`Registry.checkout`)."""

    version: str
    model_dir: Path
    vocab_dir: Path | None

    @property
    def vocab_version(self) -> str | None:
        return vocab_version(self.vocab_dir)


@dataclass(frozen=True)
class PyfuncModel:
    """How a version is served: the pyfunc object and what MLflow logs with it."""

    python_model: Any
    settings: dict[str, Any]  # logged as the artifact ``serving.json``
    signature: Any = None
    input_example: Any = None
    code_paths: tuple[str, ...] = ()
    pip_requirements: tuple[str, ...] = ()


SERVING_FILE = "serving.json"


def artifact_dirs(local: Path) -> tuple[Path, Path | None]:
    """(model folder, vocabulary folder or None) inside a downloaded pyfunc."""
    model_dir = next(
        p.parent for p in local.rglob("vocab.json") if (p.parent / "config.json").exists()
    )
    vocab = [p.parent for p in local.rglob(LEXICON)]
    return model_dir, (vocab[0] if vocab else None)


class Registry:
    """The registered model named in ``conf/tracking`` (``tracking.registered_model``)."""

    def __init__(self, settings: TrackingSettings):
        self.settings = settings
        self.name = settings.registered_model

    def client(self):
        return tracking.setup(self.settings).MlflowClient()

    def register(
        self,
        model_dir: Path,
        vocab_dir: Path | None,
        pyfunc: PyfuncModel,
        run_id: str,
        parent: str | None,
    ) -> str:
        """Log ``model_dir`` (+ vocabulary, serving settings) as a pyfunc in the active run and
        register it; returns the version.

        Idempotent per run: a version already registered from ``run_id`` (a rerun after a kill
        during registration) is completed and returned instead of registering a second one."""
        mlflow = tracking.setup(self.settings)
        existing = self.version_of_run(run_id)
        if existing is not None:
            self._tag_new_version(existing, run_id, parent, vocab_dir)
            return existing
        with tempfile.TemporaryDirectory(prefix="asrloop-serving-") as tmp:
            settings_file = Path(tmp) / SERVING_FILE
            settings_file.write_text(json.dumps(pyfunc.settings, indent=1) + "\n")
            artifacts = {"model_dir": str(model_dir), "serving": str(settings_file)}
            if vocab_dir is not None and (vocab_dir / VOCAB_VERSION).exists():
                artifacts["vocab_dir"] = str(vocab_dir)
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=pyfunc.python_model,
                artifacts=artifacts,
                code_paths=list(pyfunc.code_paths) or None,
                pip_requirements=list(pyfunc.pip_requirements),
                signature=pyfunc.signature,
                input_example=pyfunc.input_example,
                registered_model_name=self.name,
            )
        version = str(info.registered_model_version)
        fault_point("registry.after_log_model")
        self._tag_new_version(version, run_id, parent, vocab_dir)
        return version

    def _tag_new_version(
        self, version: str, run_id: str, parent: str | None, vocab_dir: Path | None
    ) -> None:
        tags = tracking.run_tags(self.settings, "train")
        vocab = vocab_version(vocab_dir)
        if vocab is not None:
            tags["vocab_version"] = vocab
        client = self.client()
        for key in ("corpus_version", "vocab_version", "git_commit", "loop_iteration"):
            if key in tags:
                client.set_model_version_tag(self.name, version, key, tags[key])
        client.set_model_version_tag(self.name, version, "run_id", run_id)
        client.set_model_version_tag(self.name, version, "warm_start_from", parent or "none")

    def version_of_run(self, run_id: str) -> str | None:
        """The version registered from training run ``run_id``, if any."""
        found = self.client().search_model_versions(f"name='{self.name}' and run_id='{run_id}'")
        return str(min(int(v.version) for v in found)) if found else None

    def model_id(self, ref: str) -> str:
        """The MLflow LoggedModel id behind a version (number or alias): metrics logged with it
        show on the model's page."""
        mv = self._model_version(ref)
        # the SQL registry leaves ModelVersion.model_id empty; its source is models:/<id>
        return mv.model_id or str(mv.source).removeprefix("models:/")

    def _model_version(self, ref: str):
        client = self.client()
        if ref.isdigit():
            return client.get_model_version(self.name, ref)
        return client.get_model_version_by_alias(self.name, ref)

    def resolve(self, ref: str) -> str:
        """The version number behind ``ref`` (a version number or an alias)."""
        return str(self._model_version(ref).version)

    @contextmanager
    def checkout(self, ref: str) -> Iterator[CheckedOutVersion]:
        """Download a version (``ref``: number or alias) to a temp folder, removed afterwards."""
        mlflow = tracking.setup(self.settings)
        version = self.resolve(ref)
        target = Path(tempfile.mkdtemp(prefix=f"asrloop-{self.name}-v{version}-"))
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{self.name}/{version}", dst_path=str(target)
            )
            model_dir, vocab_dir = artifact_dirs(Path(local))
            yield CheckedOutVersion(version, model_dir, vocab_dir)
        finally:
            shutil.rmtree(target, ignore_errors=True)

    def load_model(self, ref: str):
        """(model, its processor, version) for an alias such as ``champion`` or a version."""
        from asrloop.model.checkpoint import load_checkpoint

        with self.checkout(ref) as checked:
            model, processor = load_checkpoint(checked.model_dir)
        return model, processor, checked.version

    def alias_version(self, alias: str) -> str | None:
        """The version an alias points to, or None when no model or alias is registered yet."""
        from mlflow.exceptions import MlflowException

        client = self.client()
        try:
            found = tracking.retrying(lambda: client.get_model_version_by_alias(self.name, alias))
            return str(found.version)
        except MlflowException as error:
            if _is_missing(error):
                return None
            raise RegistryError(f"registry lookup of alias '{alias}' failed: {error}") from error

    def set_alias(self, version: str, alias: str) -> None:
        client = self.client()
        tracking.retrying(lambda: client.set_registered_model_alias(self.name, alias, version))

    def tag_version(self, version: str, key: str, value: str) -> None:
        client = self.client()
        tracking.retrying(lambda: client.set_model_version_tag(self.name, version, key, value))

    def version_tags(self, version: str) -> dict[str, str]:
        return dict(self.client().get_model_version(self.name, version).tags)

    def run_id(self, version: str) -> str | None:
        return self.client().get_model_version(self.name, version).run_id


def _is_missing(error) -> bool:
    """Whether an MLflow error means "not registered" (and not a locked or broken backend)."""
    code = getattr(error, "error_code", "")
    message = str(error).lower()
    if code == "RESOURCE_DOES_NOT_EXIST":
        return True
    return code == "INVALID_PARAMETER_VALUE" and "alias" in message and "not found" in message
