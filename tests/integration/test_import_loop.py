"""The loop on the user's own data: an imported LibriSpeech-layout corpus and an imported drop of
production audio (MP3, stereo FLAC) with references; and a user's shard in the corpus stage's
folder stops the loop untouched.

The corpus and drop are the tiny experiment's, synthesized and then written out as a user
would have them, so the loop can learn from them in minutes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mlflow
import pytest

from asrloop.artifacts import Layout
from asrloop.corpus.drop import Drop, synthesize_drop
from asrloop.corpus.manifest import iter_corpus, read_manifest
from asrloop.corpus.plan import plan_corpus
from asrloop.corpus.shards import render_shards
from asrloop.corpus.versioning import corpus_tags
from asrloop.settings import typed
from tests.corpus_formats import export_drop, export_librispeech
from tests.helpers import asrloop_cli, init_project_repo, make_cfg
from tests.unit.test_corpus_import import digests

OVERRIDES = ["experiment=tiny", "train.optimizer.lr=0.0031"]


def asrloop(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return asrloop_cli(root, *args, check=check)


@pytest.fixture(scope="module")
def user_data(tmp_path_factory):
    """(LibriSpeech folder, drop folder) made from the tiny experiment's corpus and drop."""
    scratch = tmp_path_factory.mktemp("user-data")
    cfg = make_cfg(scratch / "synth", *OVERRIDES)
    settings = typed(cfg)
    shards = plan_corpus(settings.corpus, forbidden_words=settings.scenario.terms)
    render_shards(shards, Path(cfg.paths.base_corpus), workers=2)
    layout = Layout.from_paths(cfg.paths)
    drop = Drop.of(settings.scenario.drop, layout)
    synthesize_drop(settings.corpus, settings.scenario, drop, layout)
    librispeech = export_librispeech(Path(cfg.paths.base_corpus), scratch / "corpora")
    production = export_drop(drop.manifest, drop.references, scratch / "incoming" / "week1")
    return librispeech, production


def import_args(librispeech: Path, production: Path) -> list[str]:
    return [
        "corpus.source=import",
        "corpus.importer.format=librispeech",
        f"corpus.importer.path={librispeech}",
        "scenario.drop.source=import",
        f"scenario.drop.import_from={production}",
    ]


def test_a_user_shard_in_base_stops_the_loop_and_stays_byte_identical(tmp_path):
    root = init_project_repo(tmp_path / "project")
    mine = root / "data" / "corpus" / "base" / "my-shard"
    mine.mkdir(parents=True)
    (mine / "a.wav").write_bytes(b"RIFF my recording")
    (mine / "manifest.jsonl").write_text('{"audio_filepath": "a.wav", "duration": 1.0}\n')
    before = digests(mine)
    result = asrloop(root, "loop", *OVERRIDES, check=False)
    assert result.returncode != 0
    assert str(mine) in result.stderr and "data/corpus/user" in result.stderr
    assert digests(mine) == before


@pytest.mark.slow
def test_the_loop_on_an_imported_corpus_and_an_imported_drop(user_data, tmp_path):
    librispeech, production = user_data
    root = init_project_repo(tmp_path / "project")
    # The label check would leave out rows that a one-minute model (slower still on a busy
    # machine) mishears; this test is about the import path, so every approved row grows.
    asrloop(
        root, "loop", *OVERRIDES, *import_args(librispeech, production), "grow.label_check=false"
    )

    summary = json.loads((root / "reports" / "loop" / "summary.json").read_text())
    assert [it["iteration"] for it in summary["iterations"]] == [0, 1]
    assert corpus_tags(root) == ["corpus-v1", "corpus-v2"]
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    client = mlflow.MlflowClient()
    versions = client.search_model_versions("name='asrloop-news-ctc'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    challenger = client.get_model_version("asrloop-news-ctc", "2")
    assert challenger.tags["gate"] in {"promoted", "rejected"} and challenger.tags["gate_reason"]

    base = list(iter_corpus(root / "data" / "corpus" / "base"))
    assert base and {r.source for r in base} == {"import/librispeech"}
    assert {r.split for r in base} == {"train", "dev", "test", "regression"}
    drop = root / "data" / "drops" / "brexit-drop1"
    rows = read_manifest(drop / "manifest.jsonl", require_text=False)
    assert {r.extra["provenance"]["sample_rate"] for r in rows} == {48_000, 16_000}
    assert (root / "reports" / "transcripts" / drop.name / "transcripts.jsonl").exists()
    grown = list(iter_corpus(root / "data" / "corpus" / "grown"))
    assert grown and all(r.split == "train" for r in grown)
