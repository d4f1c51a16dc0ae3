"""A tiny loop, for real: corpus, training, drop, triage, grow, retrain, gate, summary.

Minutes, not hours: the tiny experiment config (small corpus, one-minute training). The model
it trains is weak, so this asserts the loop's structure and bookkeeping, and that the gate's
recorded decision, its clauses and the registry agree, not the model's accuracy (the benchmarks
and `make loop` measure that on the default config). Two whole loops: `make test-all`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mlflow
import pytest
import yaml

from asrloop.corpus.versioning import corpus_tags
from asrloop.records import GateDecision
from tests.helpers import asrloop_cli, init_project_repo

pytestmark = pytest.mark.slow

OVERRIDES = ["experiment=tiny", "train.optimizer.lr=0.0031"]


def run_loop(root: Path) -> subprocess.CompletedProcess:
    return asrloop_cli(root, "loop", *OVERRIDES, timeout=1200)


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    root = init_project_repo(tmp_path_factory.mktemp("loop") / "project")
    first = run_loop(root)
    summary = json.loads((root / "reports" / "loop" / "summary.json").read_text())
    return root, summary, first


def registry(root: Path):
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    return mlflow.MlflowClient()


def test_summary_has_every_field_per_iteration(loop):
    _, summary, _ = loop
    assert [it["iteration"] for it in summary["iterations"]] == [0, 1]
    for it in summary["iterations"]:
        for key in (
            "corpus_version",
            "vocab_version",
            "model_version",
            "run_id",
            "test_wer",
            "test_cer",
            "regression_wer",
            "term_recall",
            "promoted",
            "gate_reason",
            "step_seconds",
            "data_checks",
            "model_checks",
        ):
            assert key in it, key
        assert set(it["term_recall"]) == set(summary["terms"])
        assert it["data_checks"]["passed"] is True
    assert summary["iterations"][1]["step_seconds"]["train"] > 0
    assert summary["total_seconds"] > 0 and "term_recall" in summary["final"]


def test_two_versions_two_tags_and_a_champion(loop):
    root, summary, _ = loop
    assert corpus_tags(root) == ["corpus-v1", "corpus-v2"]
    client = registry(root)
    versions = client.search_model_versions("name='asrloop-news-ctc'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    champion = client.get_model_version_by_alias("asrloop-news-ctc", "champion")
    assert client.get_model_version_by_alias("asrloop-news-ctc", "baseline").version == "1"
    assert client.get_model_version_by_alias("asrloop-news-ctc", "challenger").version == "2"
    decision = GateDecision.load(root / "reports" / "gate" / "v2.json")
    assert decision.state == "applied" and decision.clauses
    # the recorded decision, its clauses, the registry and the summary tell one story
    assert decision.promote == all(c.passed for c in decision.clauses)
    assert decision.promote == (str(champion.version) == "2")
    challenger = client.get_model_version("asrloop-news-ctc", "2")
    assert challenger.tags["gate"] == ("promoted" if decision.promote else "rejected")
    assert challenger.tags["gate_reason"] == decision.reason[:500]
    assert summary["iterations"][1]["promoted"] == decision.promote
    assert summary["final"]["champion_version"] == str(champion.version)


def test_override_reaches_the_step_and_its_mlflow_params(loop):
    root, summary, _ = loop
    params = yaml.safe_load((root / "pipelines" / "params.yaml").read_text())
    assert params["train"]["optimizer"]["lr"] == 0.0031
    run = registry(root).get_run(summary["iterations"][0]["run_id"])
    assert run.data.params["train.optimizer.lr"] == "0.0031"
    assert run.data.tags["loop_run_id"] == summary["loop_run_id"]


def test_growth_retrains_warm_from_the_champion(loop):
    root, summary, _ = loop
    run = registry(root).get_run(summary["iterations"][1]["run_id"])
    assert run.data.params["init_version"] == "1"
    assert run.data.tags["corpus_version"] == "corpus-v2"


def test_a_second_loop_retrains_nothing(loop):
    root, _, _ = loop
    again = run_loop(root)
    output = again.stdout + again.stderr
    ran = [line for line in output.splitlines() if line.startswith("Running stage")]
    assert not ran, ran
    assert corpus_tags(root) == ["corpus-v1", "corpus-v2"]
    assert len(registry(root).search_model_versions("name='asrloop-news-ctc'")) == 2


def test_the_label_check_flags_a_transcript_on_the_wrong_clip(loop, tmp_path):
    """The champion listens to training clips: a planted swap of two transcripts is caught."""
    import shutil

    root, _, _ = loop
    copy = tmp_path / "project"
    shutil.copytree(root, copy, symlinks=True)
    shard = sorted((copy / "data/corpus/base").glob("train-*"))[0] / "manifest.jsonl"
    rows = [json.loads(line) for line in shard.read_text().splitlines()]
    planted = min(range(len(rows)), key=lambda i: len(rows[i]["text"]))
    donor = max(range(len(rows)), key=lambda i: len(rows[i]["text"]))
    rows[planted]["text"] = rows[donor]["text"]
    shard.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = asrloop_cli(
        copy,
        "check",
        "labels",
        *OVERRIDES,
        "checks.labels.max_cer=0.7",
        f"checks.labels.max_clips={len(rows)}",
        check=False,
        timeout=None,
    )
    report = json.loads((copy / "reports/checks/labels.json").read_text())
    flagged = [row for f in report["findings"] for row in f["rows"]]
    assert any(rows[planted]["id"] in row for row in flagged), flagged
    assert len(flagged) < 0.1 * report["summary"]["clips"], flagged  # few false alarms
    assert result.returncode == 1 and "label check failed" in result.stderr
