"""Data lineage for MLflow: the corpus version a run read, as ONE dataset input.

Its digest is derived from every shard's DVC digest, so a corpus version is one dataset row in
the experiment (MLflow deduplicates by name and digest), linked from every run that used it;
the input's tags hold the corpus version tag and the shard counts.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import yaml

from asrloop.artifacts import DVC_LOCK, MANIFEST, PIPELINE_DIR
from asrloop.corpus.manifest import shard_manifests
from asrloop.tracking import git_tags, is_duplicate_insert, retrying


def dvc_digests(root: Path) -> dict[str, str]:
    """DVC md5 of every tracked path under the project: ``.dvc`` pointers and ``dvc.lock`` outs."""
    digests: dict[str, str] = {}
    data = root / "data"
    for pointer in data.rglob("*.dvc") if data.exists() else []:
        if not pointer.is_file():
            continue
        for out in (yaml.safe_load(pointer.read_text()) or {}).get("outs", []):
            digests[str((pointer.parent / out["path"]).resolve())] = out.get("md5", "")
    for lock in (root / PIPELINE_DIR).glob(DVC_LOCK):
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
    return "sha256:" + hashlib.sha256((shard / MANIFEST).read_bytes()).hexdigest()[:32]


def corpus_digest(root: Path, corpus_dir: Path) -> tuple[str, dict[str, int]]:
    """(digest of the corpus version, shard count per split): an md5 over each shard's DVC
    digest (32 hex characters; MLflow keeps 36)."""
    digests = dvc_digests(root)
    lines, shards = [], Counter()
    for manifest in shard_manifests(corpus_dir):
        shard = manifest.parent
        lines.append(f"{shard.relative_to(corpus_dir)}={shard_digest(shard, digests)}")
        shards[shard.name.rsplit("-", 1)[0] if shard.parent.name == "base" else "grown"] += 1
    return hashlib.md5("\n".join(sorted(lines)).encode()).hexdigest(), dict(shards)


def corpus_dataset(root: Path, corpus_dir: Path):
    """The corpus as an MLflow dataset (no data loaded) and the tags of its input."""
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.data.sources import LocalArtifactDatasetSource

    digest, shards = corpus_digest(root, corpus_dir)
    root, corpus_dir = root.resolve(), corpus_dir.resolve()
    inside = corpus_dir.is_relative_to(root)
    name = str(corpus_dir.relative_to(root)) if inside else corpus_dir.name  # data/corpus
    tags = {
        "corpus_version": git_tags(root).get("corpus_version", "untracked"),
        "shards": str(sum(shards.values())),
        **{f"shards.{split}": str(n) for split, n in sorted(shards.items())},
    }
    source = LocalArtifactDatasetSource(name if inside else str(corpus_dir))  # root-relative
    return MetaDataset(source, name=name, digest=digest), tags


def log_corpus_input(mlflow, root: Path, corpus_dir: Path, context: str):
    """``mlflow.log_input`` of the corpus version (``context``: training, evaluation); returns
    the dataset, for metrics logged against it."""
    dataset, tags = corpus_dataset(root, corpus_dir)
    log_dataset_input(mlflow, dataset, context, tags)
    return dataset


def log_dataset_input(mlflow, dataset, context: str, tags: dict, attempts: int = 5) -> None:
    """``mlflow.log_input``, retried when another run inserted the same dataset first.

    MLflow's SQL store looks a dataset up, then inserts it if missing, so runs that start
    together on a new corpus version (a sweep's jobs) can race to insert the same row; the
    loser's whole transaction is rolled back, and its retry finds the winner's row.
    """
    retrying(
        lambda: mlflow.log_input(dataset, context=context, tags=tags),
        attempts=attempts,
        wait=0.05,
        transient=is_duplicate_insert,
    )
