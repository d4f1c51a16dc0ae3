"""`asrloop scenario new`: a starting scenario file that validates and runs, refusing bad names
and existing files."""

from __future__ import annotations

import shutil

import pytest
import yaml

from asrloop import config
from asrloop.config import compose
from asrloop.corpus.scenario_file import parse_words, starter_scenario, write_starter
from asrloop.errors import ConfigError
from tests.helpers import asrloop_cli


@pytest.fixture
def conf_copy(tmp_path, monkeypatch):
    copy = tmp_path / "conf"
    shutil.copytree(config.CONF_DIR, copy)
    monkeypatch.setattr(config, "CONF_DIR", copy)
    return copy


def test_the_starter_file_validates_with_multi_word_terms_and_near_misses(conf_copy):
    terms = parse_words("Vax, boris  johnson", "terms")
    assert terms == ["vax", "boris johnson"]
    text = starter_scenario("quiz", terms, parse_words("tax", "near_miss"))
    write_starter(conf_copy / "scenario" / "quiz.yaml", text, overwrite=False)
    cfg = compose(["scenario=quiz"])
    scenario = cfg.scenario
    assert list(scenario.terms) == terms
    assert all(term in sentence for term in terms for sentence in scenario.templates[term])
    assert scenario.near_miss and all("tax" in s.split() for s in scenario.near_miss)
    assert set(scenario.drops[0].terms) == set(terms) and scenario.drops[0].near_miss > 0
    assert yaml.safe_load(text)["drop"]["size"] == 240


def test_bad_names_terms_and_existing_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"scaffold\.name"):
        starter_scenario("../etc", ["vax"])
    with pytest.raises(ConfigError, match=r"scaffold\.terms"):
        starter_scenario("quiz", [])
    with pytest.raises(ConfigError, match="no letters"):
        parse_words("vax, !!", "terms")
    path = tmp_path / "quiz.yaml"
    write_starter(path, "name: quiz\n", overwrite=False)
    with pytest.raises(ConfigError, match="exists"):
        write_starter(path, "name: other\n", overwrite=False)
    assert path.read_text() == "name: quiz\n"


def test_the_command_writes_the_file(tmp_path):
    out = tmp_path / "energy.yaml"
    command = ("scenario", "new", "energy", "--output", str(out), "--terms")
    asrloop_cli(tmp_path, *command, "heat pump,ofgem")
    assert yaml.safe_load(out.read_text())["terms"] == ["heat pump", "ofgem"]
    again = asrloop_cli(tmp_path, *command, "x", check=False)
    assert again.returncode != 0 and "exists" in again.stderr
