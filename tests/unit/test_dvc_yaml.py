"""DVC's bookkeeping reads YAML at native speed (pyproject pins ruamel.yaml.clib)."""

from __future__ import annotations

from pathlib import Path

from asrloop.config import compose
from asrloop.pipeline import write_params


def test_dvc_parses_params_with_the_c_parser(tmp_path: Path, monkeypatch) -> None:
    """DVC reads params.yaml (and dvc.lock) with ``YAML(typ="safe")`` for every stage it checks
    or runs; without ruamel's C parser that is the pure-Python one, 4-5x slower."""
    from dvc.utils.serialize import parse_yaml
    from ruamel.yaml import YAML
    from ruamel.yaml.main import CParser

    assert CParser is not None, "ruamel.yaml.clib is not installed: run `make setup`"
    assert YAML(typ="safe").Parser is CParser
    monkeypatch.setenv("ASRLOOP_ROOT", str(tmp_path))
    path = write_params(compose([]))
    parsed = parse_yaml(path.read_text(), str(path))
    assert parsed == YAML(typ="safe", pure=True).load(path.read_text())
    assert parsed["corpus"]["text"]["slots"]  # the large part of the file, read the same
