"""Config plumbing: where conf/ lives, custom resolvers, composing outside ``@hydra.main``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

CONF_DIR = Path(os.environ.get("ASRLOOP_CONF", Path(__file__).resolve().parents[2] / "conf"))


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("abspath"):
        OmegaConf.register_new_resolver("abspath", lambda p: str(Path(p).expanduser().resolve()))


register_resolvers()


def compose(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """The config a step would see, composed with Hydra's compose API (for tests and the loop)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        return hydra_compose(config_name=config_name, overrides=list(overrides))


def _reroot(value, old: str, new: str):
    if isinstance(value, dict):
        return {k: _reroot(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_reroot(v, old, new) for v in value]
    if isinstance(value, str) and old in value:
        return value.replace(old, new)
    return value


def resolved(cfg: DictConfig) -> DictConfig:
    """A fully resolved copy (no interpolations left), without Hydra's own node."""
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("hydra", None)
    return OmegaConf.create(data)


def with_drop_index(cfg: DictConfig, index: int) -> DictConfig:
    """A copy of the config for the scenario's drop ``index`` (interpolations kept)."""
    copy = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
    copy.scenario.drop.index = index
    return copy


def drops_so_far(cfg: DictConfig) -> list:
    """Every drop of the scenario up to the current one (``scenario.drop.index``).

    Composed by Hydra, a drop's name follows its index (``${scenario.name}-drop${.index}``); in
    the pipeline's resolved params snapshot the names of the earlier drops are the ones
    ``asrloop params`` recorded in ``scenario.drop.earlier``.
    """
    from asrloop.corpus.drop import Drop
    from asrloop.errors import ConfigError

    index = int(cfg.scenario.drop.index)
    recorded = list(cfg.scenario.drop.earlier)
    if recorded and len(recorded) != index - 1:
        raise ConfigError(
            f"scenario.drop.earlier names {len(recorded)} drops; drop {index} follows {index - 1}"
        )
    drops = []
    for k in range(1, index + 1):
        drop_cfg = with_drop_index(cfg, k).scenario.drop
        if k < index and recorded:
            drop_cfg.name = recorded[k - 1]
        drops.append(Drop.from_config(drop_cfg, cfg.paths))
    return drops


def config_snapshot(cfg: DictConfig) -> dict:
    """The resolved config as plain data (Hydra's own node removed), for logging with a run."""
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("hydra", None)
    return data


def save_config(cfg: DictConfig, path: str | Path) -> Path:
    """Save the resolved config beside a step's outputs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(resolved(cfg), path)
    return path


ROOT = "."  # how params.yaml names the project root: paths under it are written ./relative


def relative_to_root(data, root: str):
    """``data`` with the project root written as ``.``: the same file from every clone path."""
    prefix = str(root).rstrip("/")
    if isinstance(data, dict):
        return {k: relative_to_root(v, root) for k, v in data.items()}
    if isinstance(data, list):
        return [relative_to_root(v, root) for v in data]
    if isinstance(data, str):
        return ROOT if data == prefix else data.replace(prefix + "/", ROOT + "/")
    return data


def _at_root(data, root: str):
    """The inverse of :func:`relative_to_root` for the project at ``root``."""
    if isinstance(data, dict):
        return {k: _at_root(v, root) for k, v in data.items()}
    if isinstance(data, list):
        return [_at_root(v, root) for v in data]
    if isinstance(data, str) and (data == ROOT or data.startswith(ROOT + "/")):
        return root + data[len(ROOT) :]
    return data


def load_params(path: str | Path, overrides: Sequence[str] = ()) -> DictConfig:
    """A resolved config written by ``asrloop params`` (the pipeline's params.yaml) + overrides.

    Paths in the snapshot are relative to the project (``./data/...``); they are rooted at the
    project that holds ``path`` (its ``pipelines/``), wherever that clone lives. An older
    snapshot with absolute paths is re-rooted the same way."""
    cfg = OmegaConf.load(path)
    written = str(cfg.paths.root)
    actual = str(Path(path).resolve().parent.parent)
    data = OmegaConf.to_container(cfg)
    if written == ROOT:
        cfg = OmegaConf.create(_at_root(data, actual))
    elif written != actual:
        cfg = OmegaConf.create(_reroot(data, written, actual))
    if overrides:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
    from asrloop.config_keys import unknown_keys
    from asrloop.errors import ConfigError

    unknown = unknown_keys(OmegaConf.to_container(cfg), CONF_DIR)
    if unknown:
        raise ConfigError(
            f"{path} (with overrides {list(overrides)}): unknown config keys: " + ", ".join(unknown)
        )
    return cfg
