"""The typed config schemas (asrloop.settings): every shipped option validates, a wrong type or
an unknown key fails at composition naming the key and the file, optional keys get defaults,
and an older scenario file gets one clear error, not a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from asrloop import config
from asrloop.config import compose, load_params
from asrloop.errors import ConfigError
from asrloop.pipeline import write_params
from asrloop.settings import Settings, typed
from asrloop.settings.decode import DecodeSettings, LexiconDecodeSettings
from asrloop.settings.model import (
    CtcModelSettings,
    PretrainedModelSettings,
    TransformersModelSettings,
)

CONF = config.CONF_DIR
# Every option of every group, few compositions: defaults, then the other options in sets that
# go together (each a real composition, so Hydra's defaults lists and overlays apply).
COMBINATIONS = [
    [],
    [
        "decode=greedy",
        "model=transformer_ctc",
        "scenario=pandemic",
        "tracking=server",
        "experiment=small_fast",
        "launcher=slurm",
    ],
    ["model=wav2vec2_tiny", "scenario=westminster", "experiment=tiny", "launcher=submitit_local"],
    [
        "model=pretrained",
        "model.path=/checkpoints/model",
        "launcher=local_parallel",
        "scenario=climate",
    ],
    ["experiment=faults", "hparams_search=optuna", "scenario=markets"],
    ["scenario=holyrood", "executor=ray", "train_data=stream"],
    ["scenario=wildlife"],
]
MODEL_SCHEMAS = {
    "conformer_ctc": CtcModelSettings,
    "transformer_ctc": CtcModelSettings,
    "wav2vec2_tiny": TransformersModelSettings,
    "pretrained": PretrainedModelSettings,
}


def shipped_options() -> set[str]:
    """``group=option`` for every YAML file of conf/ but the root config and Hydra's own."""
    options = set()
    for file in CONF.rglob("*.yaml"):
        parts = file.relative_to(CONF).parts
        if len(parts) > 1 and parts[0] != "hydra":
            options.add(f"{'/'.join(parts[:-1])}={file.stem}")
    return options


def test_the_combinations_cover_every_shipped_option():
    named = {o for combination in COMBINATIONS for o in combination}
    defaults = yaml.safe_load((CONF / "config.yaml").read_text())["defaults"]
    chosen = {f"{k}={v}" for d in defaults if isinstance(d, dict) for k, v in d.items()}
    chosen |= {"corpus/text=news", "corpus/importer=default"}  # corpus/news.yaml's defaults
    assert shipped_options() - named - chosen == set()


@pytest.mark.parametrize("overrides", COMBINATIONS, ids=lambda o: " ".join(o) or "defaults")
def test_every_shipped_option_composes_and_validates(overrides):
    cfg = compose(overrides)
    assert OmegaConf.get_type(cfg) is Settings and "hydra" not in cfg
    model = next((o.split("=")[1] for o in overrides if o.startswith("model=")), "conformer_ctc")
    assert OmegaConf.get_type(cfg.model) is MODEL_SCHEMAS[model]
    greedy = "decode=greedy" in overrides
    assert OmegaConf.get_type(cfg.decode) is (DecodeSettings if greedy else LexiconDecodeSettings)
    # interpolations stay interpolations, and resolve
    assert OmegaConf.is_interpolation(cfg.train, "output_dir")
    assert cfg.scenario.drop.name.startswith(cfg.scenario.name)


def test_the_validated_config_is_the_yaml_exactly():
    """No schema adds a key the YAML lacks or changes a value's type (a params file, a cache
    key or a recognizer signature made from it stays the same); only the root `version` (the
    `+version=` of `asrloop corpus restore`) is new."""
    cfg = compose()
    data = OmegaConf.to_container(cfg, resolve=False)
    assert data.pop("version") is None
    raw = OmegaConf.to_container(compose_unvalidated(), resolve=False)
    raw.pop("hydra")
    assert data == raw and type(data["corpus"]["noise"]["snr_db"][0]) is int


def compose_unvalidated():
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base=None):
        return hydra_compose(config_name="config", return_hydra_config=True)


def test_typed_gives_the_dataclasses():
    settings = typed(compose(["model.config.d_model=96"]))
    assert isinstance(settings, Settings) and isinstance(settings.model, CtcModelSettings)
    assert settings.model.config.d_model == 96
    assert getattr(settings.review, "import").file is None  # `import` is a Python keyword
    assert settings.scenario.drop.rate_wpm == [150, 200]


def test_a_wrong_type_names_the_key_the_file_and_the_override():
    with pytest.raises(ConfigError) as error:
        compose(["model.config.d_model=abc"])
    message = str(error.value)
    assert "model.config.d_model expects int, got 'abc'" in message
    assert "the override model.config.d_model=abc (on conf/model/conformer_ctc.yaml)" in message
    assert "Fix: set model.config.d_model to a value of type int" in message


def test_an_unknown_key_fails_with_a_did_you_mean():
    with pytest.raises(ConfigError, match=r"unknown config key train\.epochz \(did you mean "):
        compose(["+train.epochz=3"])
    with pytest.raises(ConfigError, match=r"did you mean train\.finetune_when_grown\.epochs\?"):
        compose(["+train.finetune_when_grown.epochz=3"])  # a partial train config, checked
    with pytest.raises(ConfigError, match=r"decode\.type is 'lexcon' \(did you mean lexicon\?\)"):
        compose(["decode.type=lexcon"])


def test_free_form_partials_take_any_argument_but_type_the_known_ones():
    cfg = compose(["+train.optimizer.betas=[0.9,0.98]"])  # any torch.optim argument
    assert list(cfg.train.optimizer.betas) == [0.9, 0.98]
    with pytest.raises(ConfigError, match=r"train\.optimizer\.lr expects float"):
        compose(["train.optimizer.lr=fast"])


def test_a_value_that_must_be_given_says_so():
    with pytest.raises(ConfigError, match=r"model\.path is \?\?\? .*conf/model/pretrained\.yaml"):
        compose(["model=pretrained"])


@pytest.fixture
def conf_copy(tmp_path, monkeypatch):
    """A copy of conf/ that the config module composes from (a scenario file can be added)."""
    copy = tmp_path / "conf"
    shutil.copytree(CONF, copy)
    monkeypatch.setattr(config, "CONF_DIR", copy)
    return copy


def write_scenario(conf: Path, name: str, data: dict) -> Path:
    path = conf / "scenario" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


MINIMAL_SCENARIO = {
    "name": "minimal",
    "terms": ["zorb"],
    "templates": {"zorb": ["the zorb met {people} in {place}"]},
    "drops": [{"terms": {"zorb": 0.4}}],
    "drop": {
        "size": 40,
        "holdout_share": 0.5,
        "voices": ["en-us+klatt2"],
        "noise": {"prob": 0.5, "snr_db": [10, 20]},
    },
}


def test_an_older_scenario_layout_gets_one_clear_error(conf_copy):
    older = {
        **MINIMAL_SCENARIO,
        "templates": ["the zorb met {people} in {place}"],  # one list, not term -> sentences
    }
    path = write_scenario(conf_copy, "older", older)
    with pytest.raises(ConfigError) as error:
        compose(["scenario=older"])
    message = str(error.value)
    assert "scenario.templates expects dict[str, list[str]], got a list (1 items)" in message
    assert str(path) in message and "Traceback" not in message
    assert "templates maps each term to the sentences that say it" in message


def test_a_scenario_may_leave_the_optional_keys_out(conf_copy):
    write_scenario(conf_copy, "minimal", MINIMAL_SCENARIO)
    cfg = compose(["scenario=minimal"])
    scenario = cfg.scenario
    assert scenario.near_miss == [] and scenario.pronunciations == {}
    assert scenario.drops[0].near_miss == 0.0
    drop = scenario.drop
    assert (drop.index, list(drop.earlier), drop.source, drop.import_from) == (1, [], "synth", None)
    assert drop.name == "minimal-drop1" and drop.seed == cfg.seed
    assert list(drop.rate_wpm) == list(cfg.corpus.rate_wpm)


def test_the_params_path_is_validated_too(tmp_path):
    path = write_params(compose([f"paths.root={tmp_path}"]))
    cfg = load_params(path, ["train.max_steps=3"])
    assert OmegaConf.get_type(cfg) is Settings and cfg.train.max_steps == 3
    with pytest.raises(ConfigError) as error:
        load_params(path, ["model.config.d_model=abc"])
    assert "model.config.d_model expects int" in str(error.value)
    assert f"the override model.config.d_model=abc (on {path})" in str(error.value)
    data = OmegaConf.load(path)  # `dvc exp run -S` with a typo edits the file itself
    data.train.epochz = 3
    OmegaConf.save(data, path)
    with pytest.raises(
        ConfigError, match=rf"train\.epochz \(did you mean train\.epochs\?\), in {path}"
    ):
        load_params(path)


def test_the_schemas_are_in_hydras_config_store():
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    assert "epochs" in list(store.load("train/schema.yaml").node)  # `in` skips ??? values
    assert "d_model" in list(store.load("model/schema_ctc.yaml").node.config)
    assert "monitor" in list(store.load("triage/schema.yaml").node)
