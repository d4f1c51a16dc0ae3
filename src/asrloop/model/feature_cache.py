"""Fbank features of whole shards on disk, so a retraining only computes what is new.

One file per shard, named by the shard's DVC digest (:func:`asrloop.model.lineage.shard_digest`)
and a hash of the feature settings: a changed shard or changed settings simply miss the cache.
The files live under ``paths.cache`` (not versioned: they can always be recomputed); stale files
of a shard are removed when its new features are stored.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from asrloop.artifacts import FEATURES_SUFFIX
from asrloop.model.lineage import dvc_digests, shard_digest
from asrloop.settings.features import FeaturesSettings

Featurized = tuple[torch.Tensor, float, bool]  # features [frames, n_mels], seconds, resampled


class FeatureCache:
    def __init__(self, folder: Path, features: FeaturesSettings, project_root: Path):
        self.folder = folder
        # the values as written (an int window stays an int): the file names hash them
        settings = {k: getattr(features, k) for k in ("sample_rate", "n_mels", "win_ms", "hop_ms")}
        self.settings = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
        self.digests = dvc_digests(project_root)

    def _path(self, shard: Path) -> Path:
        digest = shard_digest(shard, self.digests)
        key = hashlib.sha256(f"{digest}|{self.settings}".encode()).hexdigest()[:20]
        return self.folder / f"{shard.name}-{key}{FEATURES_SUFFIX}"

    def load(self, shard: Path) -> dict[str, Featurized]:
        path = self._path(shard)
        if not path.exists():
            return {}
        try:
            return torch.load(path, weights_only=True)
        except Exception:  # a torn or foreign file: recompute
            return {}

    def store(self, shard: Path, features: dict[str, Featurized]) -> None:
        path = self._path(shard)
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(f"{shard.name}-*{FEATURES_SUFFIX}"):
            if stale != path:
                stale.unlink(missing_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save(features, tmp)
        os.replace(tmp, path)
