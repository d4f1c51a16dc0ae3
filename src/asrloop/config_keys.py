"""Every config key that conf/ can define, so a typo in a pipeline override is an error.

``asrloop <step> --params params.yaml [key=value ...]`` merges overrides into the resolved
snapshot, and ``dvc exp run -S key=value`` edits the snapshot itself; neither would notice a
misspelt key. :func:`unknown_keys` lists the keys of a config that no file in conf/ defines
(for any option of any group), with the closest known key as a hint.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import yaml

GLOBAL_PACKAGE = "# @package _global_"


def _paths(data, prefix: str = "") -> Iterator[str]:
    for key, value in data.items():
        if key == "defaults" and not prefix:
            continue
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping):
            yield from _paths(value, path + ".")


def _interpolated(data, prefix: str = "") -> Iterator[str]:
    """Keys whose value is an interpolation (``${...}``): whatever it resolves to is known."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, str) and value.startswith("${"):
            yield path
        elif isinstance(value, Mapping):
            yield from _interpolated(value, path + ".")


@cache
def known_keys(conf_dir: Path) -> frozenset[str]:
    """Dotted key paths defined by any YAML file under ``conf_dir``; a key whose value is an
    interpolation is marked ``<key>.*`` (any key below it is known)."""
    keys: set[str] = set()
    for file in sorted(conf_dir.rglob("*.yaml")):
        text = file.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        if not isinstance(data, Mapping):
            continue
        group = file.parent.relative_to(conf_dir).parts
        package = "" if GLOBAL_PACKAGE in text or not group else ".".join(group) + "."
        keys.update(_paths(data, package))
        keys.update(f"{path}.*" for path in _interpolated(data, package))
        # every prefix of a group's package is a key too (corpus, corpus.text, ...)
        keys.update(".".join(group[: n + 1]) for n in range(len(group)))
    return frozenset(keys)


def unknown_keys(config: Mapping, conf_dir: Path) -> list[str]:
    """Keys of ``config`` (a plain mapping) that conf/ never defines, each with a hint."""
    known = known_keys(conf_dir)
    unknown = []
    for path in _paths(config):
        parent = path.rpartition(".")[0]
        if path in known or (parent and parent not in known) or f"{parent}.*" in known:
            continue  # only report the outermost unknown key
        siblings = [k for k in known if k.rpartition(".")[0] == parent] or list(known)
        close = difflib.get_close_matches(path, siblings, n=1, cutoff=0.5)
        unknown.append(f"{path}" + (f" (did you mean {close[0]}?)" if close else ""))
    return unknown
