"""Where a config came from, so that an error names the file to fix.

For a config Hydra composed, a key's file is the option its group chose
(``conf/<group>/<option>.yaml``), or an overlay (``experiment=...``) that sets it, or the
override given on the command line; for a params snapshot, the snapshot and its overrides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from asrloop.settings.keys import raw, within

OVERLAYS = ("experiment", "hparams_search", "launcher")  # `# @package _global_` groups
ROOT_FILE = "config"  # conf/config.yaml: where the root keys live


@dataclass(frozen=True)
class Origin:
    """A params file (``source``), or conf/ (``conf_dir``) composed by Hydra with these
    ``choices`` (group -> option); ``overrides`` were given on top."""

    source: str
    choices: Mapping[str, str | None] = field(default_factory=dict)
    overrides: Sequence[str] = ()
    conf_dir: Path | None = None

    def where(self, key: str) -> str:
        override = self.override_for(key)
        place = self.file_for(key)
        return f"the override {override} (on {place})" if override else place

    def override_for(self, key: str) -> str | None:
        for override in self.overrides:
            name = override.lstrip("+~").partition("=")[0]
            if name.replace(".", "/") in self.choices:
                continue  # a group choice: the option's file is named instead
            if within(key, name) or within(name, key):
                return override
        return None

    def file_for(self, key: str) -> str:
        """The file that sets ``key``: an overlay that names it, else its group's option."""
        if self.conf_dir is None or not self.choices:
            return self.source
        for overlay in OVERLAYS:
            path = self._option_file(overlay)
            if path and raw(OmegaConf.to_container(OmegaConf.load(path)), key) is not None:
                return _shown_path(path)
        groups = [g for g in self.choices if within(key, g.replace("/", "."))]
        group = max(groups, key=len, default=None)
        path = self._option_file(group) if group else option_file(self.conf_dir, ROOT_FILE)
        if path:
            return _shown_path(path)
        return f"{group}={self.choices.get(group)}" if group else self.source

    def _option_file(self, group: str) -> Path | None:
        option = self.choices.get(group)
        return option_file(self.conf_dir / group, option) if option and self.conf_dir else None


def option_file(folder: Path, name: str) -> Path | None:
    """``folder/name.yaml`` (or ``.yml``), as Hydra finds an option's file."""
    return next(iter(sorted(folder.glob(name + ".y*ml"))), None) if folder.is_dir() else None


def _shown_path(path: Path) -> str:
    """Relative to the working folder when inside it (``conf/...``), else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
