"""Data lineage for MLflow: every corpus shard a run trained on, with its DVC digest."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import yaml

from asrloop.corpus.manifest import MANIFEST_NAME, shard_manifests


def dvc_digests(root: Path) -> dict[str, str]:
    """DVC md5 of every tracked path under the project: ``.dvc`` pointers and ``dvc.lock`` outs."""
    digests: dict[str, str] = {}
    data = root / "data"
    for pointer in data.rglob("*.dvc") if data.exists() else []:
        if not pointer.is_file():
            continue
        for out in (yaml.safe_load(pointer.read_text()) or {}).get("outs", []):
            digests[str((pointer.parent / out["path"]).resolve())] = out.get("md5", "")
    for lock in (root / "pipelines").glob("dvc.lock"):
        for stage in (yaml.safe_load(lock.read_text()) or {}).get("stages", {}).values():
            for out in stage.get("outs", []):
                digests[str((lock.parent / out["path"]).resolve())] = out.get("md5", "")
    return digests


def shard_digest(shard: Path, digests: dict[str, str]) -> str:
    """The DVC digest of the shard (or of the tracked folder holding it), else a content hash."""
    for candidate in (shard, *shard.parents):
        if str(candidate.resolve()) in digests:
            key = digests[str(candidate.resolve())]
            return key if candidate == shard else f"{key}:{shard.name}"
    return "sha256:" + hashlib.sha256((shard / MANIFEST_NAME).read_bytes()).hexdigest()[:32]


def log_dataset_inputs(mlflow, root: Path, corpus_dir: Path) -> list[dict]:
    """``mlflow.log_input`` for each shard (context = its split), with DVC digests."""
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    digests = dvc_digests(root)
    logged = []
    for manifest in shard_manifests(corpus_dir):
        shard = manifest.parent
        digest = shard_digest(shard, digests)
        split = shard.name.rsplit("-", 1)[0] if shard.parent.name == "base" else "train"
        name = str(shard.relative_to(corpus_dir))
        with warnings.catch_warnings():  # two equivalent local sources match: either is right
            warnings.simplefilter("ignore", UserWarning)
            source = resolve_dataset_source(str(shard))
        dataset = MetaDataset(source, name=name, digest=digest[:36])
        mlflow.log_input(dataset, context=split, tags={"dvc_md5": digest})
        logged.append({"name": name, "digest": digest, "split": split})
    return logged
