"""Config plumbing: where conf/ lives, custom resolvers, composing outside ``@hydra.main``, and
validation against the schemas of :mod:`asrloop.settings` (every way in: Hydra, ``compose``,
``--params``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from asrloop.settings import Origin, register_configs, validate

CONF_DIR = Path(os.environ.get("ASRLOOP_CONF", Path(__file__).resolve().parents[2] / "conf"))
COMPOSED = "conf"  # the origin of a config Hydra composed (a params file names itself)


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("abspath"):
        OmegaConf.register_new_resolver("abspath", lambda p: str(Path(p).expanduser().resolve()))


register_resolvers()
register_configs()


def compose(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """The config a step would see, composed with Hydra's compose API (for tests and the loop),
    validated; Hydra's own node is dropped."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = hydra_compose(
            config_name=config_name, overrides=list(overrides), return_hydra_config=True
        )
    return validated(cfg, COMPOSED, consume=True)


def _hydra_origin(cfg: DictConfig) -> Origin:
    """Which option of each group Hydra chose, and the overrides: from the config's own
    ``hydra`` node (``compose``) or the running app's (``@hydra.main`` removes the node)."""
    from hydra.core.hydra_config import HydraConfig

    if "hydra" in cfg:
        runtime = cfg.hydra
    else:
        runtime = HydraConfig.get() if HydraConfig.initialized() else None
    if runtime is None:
        return Origin(COMPOSED, conf_dir=CONF_DIR)
    choices = OmegaConf.to_container(runtime.runtime.choices)
    overrides = list(runtime.overrides.task)
    return Origin(COMPOSED, choices=choices, overrides=overrides, conf_dir=CONF_DIR)


def validated(
    cfg: DictConfig,
    origin: str,
    overrides: Sequence[str] = (),
    partial: bool = False,
    consume: bool = False,
) -> DictConfig:
    """``cfg`` checked against :class:`asrloop.settings.Settings` and merged into it: types
    checked, unknown keys refused, optional keys filled in, interpolations kept, Hydra's own
    node left out. ``origin`` is :data:`COMPOSED` for a config Hydra composed (the message then
    names ``conf/<group>/<option>.yaml`` and the override at fault) or the file it was read from,
    with ``overrides`` merged on top. ``partial``: absent keys are not errors (an older
    snapshot). ``consume``: ``cfg`` is nobody else's and may be taken apart (faster). Any
    failure is one :class:`~asrloop.errors.ConfigError`."""
    where = _hydra_origin(cfg) if origin == COMPOSED else Origin(origin, overrides=overrides)
    return validate(cfg, where, partial=partial, consume=consume)


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
    from asrloop.artifacts import Layout
    from asrloop.corpus.drop import Drop
    from asrloop.errors import ConfigError

    layout = Layout.from_paths(cfg.paths)
    index = int(cfg.scenario.drop.index)
    recorded = list(cfg.scenario.drop.earlier)
    if recorded and len(recorded) != index - 1:
        raise ConfigError(
            f"scenario.drop.earlier names {len(recorded)} drops; drop {index} follows {index - 1}"
        )
    drops = []
    for k in range(1, index + 1):
        drop = with_drop_index(cfg, k).scenario.drop
        name = str(recorded[k - 1] if k < index and recorded else drop.name)
        drops.append(Drop.at(layout, name, float(drop.holdout_share), int(drop.seed)))
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
    snapshot with absolute paths is re-rooted the same way. The result is validated: a typo
    in an override or in the file (``dvc exp run -S``) is a ``ConfigError``."""
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
    # a key the snapshot lacks (older than the schema) fails where it is read, with a hint
    return validated(cfg, str(path), overrides, partial=True, consume=True)
