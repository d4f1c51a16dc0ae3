"""The DVC pipeline's single source of truth: ``pipelines/params.yaml``, the resolved config.

``asrloop params [overrides]`` composes conf/ with Hydra and writes the snapshot; every stage in
``pipelines/dvc.yaml`` reads it back with ``--params``. ``dvc exp run -S key=value`` edits the
same file, so an override reaches the step either way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from asrloop.artifacts import DVC_YAML, PIPELINE_DIR, Layout
from asrloop.config import drops_so_far, relative_to_root, resolved
from asrloop.errors import ConfigError, StepFailed
from asrloop.jsonio import atomic_write_text
from asrloop.tracking import mask_secrets


def write_params(cfg: DictConfig) -> Path:
    """Write the resolved config, paths relative to the project (``dvc.lock`` is then the same
    in every clone), with the earlier drops' names (``scenario.drop.earlier``: the resolved
    snapshot cannot derive them from their index). It is committed with each data version, so it
    must hold no secret."""
    path = Layout.from_paths(cfg.paths).params_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = OmegaConf.to_container(resolved(cfg))
    # the review page's login comes from the environment when the page starts; no stage reads it
    data["review"]["token"] = None
    if mask_secrets(data) != data:
        raise ConfigError(
            "the config holds credentials (a user:password@ URI or a secret key), and "
            f"{path.name} is committed to git: put them in the environment instead "
            "(MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME/PASSWORD, AWS_* variables)"
        )
    data["scenario"]["drop"]["earlier"] = [drop.name for drop in drops_so_far(cfg)[:-1]]
    relative = relative_to_root(data, str(cfg.paths.root))
    text = OmegaConf.to_yaml(OmegaConf.create(relative), sort_keys=False)
    if not path.exists() or path.read_text() != text:
        atomic_write_text(path, text)
    return path


def repro(root: Path, targets: Sequence[str] = (), env: dict | None = None) -> None:
    """``dvc repro`` in the project (stages run as subprocesses; their output streams through)."""
    dvc_yaml = f"{PIPELINE_DIR}/{DVC_YAML}"
    stage_args = [f"{dvc_yaml}:{t}" for t in targets] or [dvc_yaml]
    bin_dir = str(Path(sys.executable).parent)
    full_env = {**os.environ, **(env or {}), "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    full_env.setdefault("ASRLOOP_ROOT", str(root))
    command = [sys.executable, "-m", "dvc", "repro", *stage_args]
    result = subprocess.run(command, cwd=root, env=full_env, check=False)
    if result.returncode != 0:
        raise StepFailed(f"dvc repro {' '.join(targets)} failed (exit {result.returncode})")
