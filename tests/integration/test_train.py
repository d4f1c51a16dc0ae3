"""Training on a tiny real corpus: loss goes down, resume continues, MLflow holds the lineage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pytest
import soundfile as sf

from asrloop.artifacts import Layout, ModelOutput
from asrloop.corpus.manifest import MANIFEST_NAME
from asrloop.model.registry import Registry
from asrloop.records import TrainingResult
from asrloop.settings import typed
from asrloop.steps import train
from asrloop.tracking import TrackingSettings
from tests.helpers import (
    FAST_TRAINING,
    TINY_CORPUS,
    corpus_project,
    make_cfg,
    tracking_uri,
)

FAST = [*TINY_CORPUS, *FAST_TRAINING]


def plant_bad_rows(root: Path) -> None:
    """A missing file, an 8 kHz clip, an empty text, a foreign symbol and an over-long clip."""
    shard = sorted((root / "data/corpus/base").glob("train-*"))[0]
    lines = (shard / MANIFEST_NAME).read_text().splitlines()
    template = json.loads(lines[0])
    sf.write(
        str(shard / "rate8k.wav"),
        np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32),
        8000,
    )
    sf.write(str(shard / "long.wav"), np.zeros(16000 * 25, np.float32), 16000)
    bad = [
        {**template, "id": "missing", "audio_filepath": "nowhere.wav"},
        {**template, "id": "rate8k", "audio_filepath": "rate8k.wav", "text": "the bread"},
        {**template, "id": "empty", "text": " "},
        {**template, "id": "symbols", "text": "caf\u00e9 news"},
        {**template, "id": "long", "audio_filepath": "long.wav", "duration": 25.0},
    ]
    (shard / MANIFEST_NAME).write_text("".join(f"{x}\n" for x in [*lines, *map(json.dumps, bad)]))


@pytest.fixture(scope="module")
def trained(tiny_corpus, tmp_path_factory):
    root = corpus_project(tiny_corpus[1], tmp_path_factory.mktemp("train"))
    plant_bad_rows(root)
    cfg = make_cfg(root, *FAST, "train.max_steps=8", "train.checkpoint_every=4")
    train.run(cfg)
    return cfg, root, TrainingResult.load(ModelOutput(Path(cfg.train.output_dir)).result)


def metric_history(cfg, run_id: str, key: str) -> list[tuple[int, float]]:
    mlflow.set_tracking_uri(tracking_uri(cfg))
    history = mlflow.MlflowClient().get_metric_history(run_id, key)
    return sorted((m.step, m.value) for m in history)


def test_a_few_steps_decrease_the_loss(trained):
    cfg, _, result = trained
    losses = [v for _, v in metric_history(cfg, result.run_id, "loss")]
    assert len(losses) == 8
    assert np.mean(losses[-3:]) < losses[0]


def test_bad_rows_are_skipped_counted_and_named(trained):
    cfg, _, result = trained
    mlflow.set_tracking_uri(tracking_uri(cfg))
    run_data = mlflow.get_run(result.run_id).data
    for reason in ("missing_file", "empty_text", "bad_symbols", "too_long"):
        assert run_data.metrics[f"train.skipped.{reason}"] == 1.0, reason
    assert run_data.metrics["train.resampled"] == 1.0
    skipped = mlflow.artifacts.load_text(f"runs:/{result.run_id}/skipped_rows.txt")
    assert "nowhere.wav" in skipped and "manifest.jsonl:" in skipped


def test_run_holds_params_metrics_inputs_and_tags(trained):
    cfg, _, result = trained
    mlflow.set_tracking_uri(tracking_uri(cfg))
    run_info = mlflow.get_run(result.run_id)
    params, tags = run_info.data.params, run_info.data.tags
    assert params["model.config.d_model"] == "64" and params["train.max_steps"] == "8"
    assert {"dev_cer", "dev_wer", "lr", "loss", "audio_seconds_per_second"} <= set(
        run_info.data.metrics
    )
    assert {"git_commit", "git_dirty", "corpus_version", "step"} <= set(tags)
    assert not [k for k in params if k.startswith(("paths.", "tracking."))]  # key ones only
    (corpus,) = run_info.inputs.dataset_inputs  # one input: the corpus version
    tags = {t.key: t.value for t in corpus.tags}
    assert corpus.dataset.name == "data/corpus" and len(corpus.dataset.digest) == 32
    assert tags["shards"] == str(len(list(Path(cfg.paths.corpus).rglob(MANIFEST_NAME))))
    assert "config.yaml" in {a.path for a in mlflow.MlflowClient().list_artifacts(result.run_id)}


def test_registered_version_loads_back(trained):
    cfg, _, result = trained
    registry = Registry(TrackingSettings.resolve(typed(cfg).tracking, cfg.paths.root))
    model, processor, version = registry.load_model(result.model_version)
    assert version == result.model_version
    assert model.lm_head.out_features == len(processor.tokenizer)


def test_interrupted_training_resumes_from_its_checkpoint(trained, tmp_path):
    cfg, root, first = trained
    output = ModelOutput(Path(cfg.train.output_dir))
    assert TrainingResult.load(output.result).steps == 8
    # same command, larger budget: the step count continues in the same MLflow run
    again = make_cfg(
        root, *FAST, "train.max_steps=12", "train.checkpoint_every=4", "train.register=false"
    )
    train.run(again)
    result = TrainingResult.load(output.result)
    assert result.steps == 12 and result.run_id == first.run_id
    curve_file = Layout.from_paths(cfg.paths).dev_curve()
    curve = json.loads(curve_file.read_text())  # kept across the resume
    assert [p["step"] for p in curve] == [8, 12] and all(p["dev_cer"] >= 0 for p in curve)
    steps = [s for s, _ in metric_history(cfg, first.run_id, "loss")]
    assert steps == list(range(1, 13))
    shutil.rmtree(output.best)


def test_a_warm_start_is_averaged_with_its_start_once(trained):
    """train.average_with_start: the best model pulled back towards the registered start, the
    folder marked; the same command again (a rerun after a kill) does not average twice."""
    from asrloop.model.averaging import averaged_with
    from asrloop.model.checkpoint import load_checkpoint

    cfg, root, first = trained
    out = f"{root}/models/averaged"
    args = [*FAST, "train.max_steps=3", f"train.init_from={first.model_version}"]
    more = ["train.average_with_start=0.5", "train.register=false", f"train.output_dir={out}"]
    tuned = make_cfg(root, *args, *more)
    train.run(tuned)
    best = ModelOutput(Path(out)).best
    assert averaged_with(best) == {"start_share": 0.5, "start_version": first.model_version}
    registry = Registry(TrackingSettings.resolve(typed(cfg).tracking, cfg.paths.root))
    start = registry.load_model(first.model_version)[0].state_dict()
    weights = load_checkpoint(best)[0].state_dict()
    moved = [k for k, v in weights.items() if v.is_floating_point() and not v.equal(start[k])]
    assert moved  # the fine-tune moved the weights; averaging kept part of that
    train.run(tuned)
    again = load_checkpoint(best)[0].state_dict()
    assert all(again[k].equal(v) for k, v in weights.items())
