"""The whole loop from a raw-audio checkpoint: ``asrloop loop experiment=tiny model=pretrained
model.path=<wav2vec2-style folder>`` (what ``make loop ARGS=...`` runs). Both iterations train
(the second warm from the champion, read back from the registry with its processor), evaluate,
transcribe, gate and report with the checkpoint's own vocabulary. The model is tiny and barely
trained: this asserts the path, not accuracy. Several minutes: `make test-all`.
"""

from __future__ import annotations

import json

import mlflow
import pytest

from tests.helpers import (
    CHECKPOINT_VOCAB,
    asrloop_cli,
    init_project_repo,
    make_wav2vec2_checkpoint,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    root = init_project_repo(tmp_path_factory.mktemp("loop-pretrained") / "project")
    checkpoint = make_wav2vec2_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny-wav2vec2")
    asrloop_cli(
        root,
        "loop",
        "experiment=tiny",
        "model=pretrained",
        f"model.path={checkpoint}",
        "train.max_batch_frames=3000",
        "grow.label_check=false",  # a barely trained model would call every label suspect
        timeout=1800,
    )
    summary = json.loads((root / "reports" / "loop" / "summary.json").read_text())
    return root, summary


def test_both_iterations_ran_with_the_checkpoint(loop):
    root, summary = loop
    assert [it["iteration"] for it in summary["iterations"]] == [0, 1]
    for it in summary["iterations"]:
        assert it["test_wer"] >= 0.0 and set(it["term_recall"]) == set(summary["terms"])
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    client = mlflow.MlflowClient()
    second = client.get_run(summary["iterations"][1]["run_id"])
    assert second.data.params["init_version"] == "1"  # warm from the registered checkpoint
    assert second.data.params["model.path"].endswith("tiny-wav2vec2")


def test_every_model_keeps_the_checkpoint_vocabulary(loop):
    root, _ = loop
    best = root / "models" / "current" / "best"
    vocab = json.loads((best / "vocab.json").read_text())
    assert sorted(vocab, key=vocab.get) == CHECKPOINT_VOCAB
    assert json.loads((best / "config.json").read_text())["model_type"] == "wav2vec2"
    transcripts = next((root / "reports" / "transcripts").rglob("transcripts.jsonl"))
    lexicon = {
        line.split("\t")[0]
        for line in (root / "data" / "vocab" / "lexicon.txt").read_text().splitlines()
    }
    for line in transcripts.read_text().splitlines():
        assert set(json.loads(line)["text"].split()) <= lexicon
