"""``executor=ray`` on a real Ray cluster of two nodes on this machine (a head and a worker
node, 127.0.0.1, one CPU each, started and stopped here): the same transcripts, skipped clips
and evaluation metrics, the same imported shards and the same features as ``executor=local``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psutil
import pytest
import torch

from asrloop.corpus.importer.importing import ImportReport, ImportSettings, import_corpus
from asrloop.corpus.manifest import iter_corpus
from asrloop.execution import LOCAL, executor_for
from asrloop.execution.ray_data import connect
from asrloop.inference.batch import transcribe_utterances
from asrloop.inference.loading import DecodingSetup, load_recognizer
from asrloop.model.checkpoint import load_checkpoint
from asrloop.model.training_data import load_examples
from asrloop.settings import typed
from asrloop.settings.executor import ExecutorSettings
from asrloop.steps import evaluate
from tests.corpus_formats import nemo
from tests.helpers import FAST_TRAINING, TINY_CORPUS, make_cfg, trained_project

pytestmark = pytest.mark.scale


def listening_addresses() -> set[str]:
    """The local addresses Ray's servers (GCS, raylets) listen on."""
    servers = {
        p.pid for p in psutil.process_iter(["name"]) if p.info["name"] in ("gcs_server", "raylet")
    }
    return {
        c.laddr.ip
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.pid in servers
    }


def test_the_cluster_has_two_nodes_and_listens_on_loopback_only(cluster):
    import ray

    connect(ExecutorSettings(kind="ray", address=cluster))  # as the executor connects
    try:
        nodes = [n for n in ray.nodes() if n["Alive"]]
        assert len(nodes) == 2 and all(n["Resources"]["CPU"] == 1 for n in nodes)
        assert {n["NodeManagerAddress"] for n in nodes} == {"127.0.0.1"}
    finally:
        ray.shutdown()  # each test's executor connects by itself
    addresses = listening_addresses()
    assert addresses and all(ip.removeprefix("::ffff:") == "127.0.0.1" for ip in addresses)


@pytest.fixture(scope="module")
def project(tiny_corpus, tmp_path_factory):
    """A project with a briefly trained model (registered as version 1) and its vocabulary."""
    root = tmp_path_factory.mktemp("scale")
    trained_project(tiny_corpus[1], root, *TINY_CORPUS, *FAST_TRAINING, "train.max_steps=40")
    return root


def rows_with_bad_clips(root: Path) -> list:
    """The test and dev clips, plus a corrupt clip and a missing one (reported and skipped)."""
    rows = list(iter_corpus(root / "data" / "corpus", ["test", "dev"]))
    corrupt = root / "corrupt.wav"
    corrupt.write_bytes(b"RIFF0000WAVEnot audio at all")
    first = rows[0]
    return [
        *rows,
        first.replace(id="corrupt", audio_filepath=str(corrupt), manifest=None),
        first.replace(id="missing", audio_filepath=str(root / "missing.wav"), manifest=None),
    ]


def test_ray_actors_hear_what_this_process_hears(project, cluster):
    settings = typed(make_cfg(project, *TINY_CORPUS, *FAST_TRAINING))
    setup = DecodingSetup.resolve(settings.decode, settings.features, settings.paths.vocab)
    recognizer, _ = load_recognizer(str(project / "models" / "current" / "best"), setup, None)
    rows = rows_with_bad_clips(project)
    on_ray = executor_for(ExecutorSettings(kind="ray", address=cluster, actors=2))

    local, local_stats = transcribe_utterances(recognizer, rows, 4.0, "local", executor=LOCAL)
    remote, remote_stats = transcribe_utterances(recognizer, rows, 4.0, "ray", executor=on_ray)

    assert [p.utterance.id for p in remote] == [p.utterance.id for p in local]
    assert len(local) == len(rows) - 2 and local_stats.skipped == remote_stats.skipped == 2
    assert [p.transcription for p in remote] == [p.transcription for p in local]  # words, times,
    assert any(p.hypothesis for p in local)  # confidences: all equal, and not all empty
    assert remote_stats.audio_seconds == pytest.approx(local_stats.audio_seconds)


def test_evaluation_through_ray_gives_the_local_metrics(project, cluster):
    def evaluated(*overrides: str) -> tuple[dict, list[dict]]:
        shutil.rmtree(project / ".cache", ignore_errors=True)  # no predictions reused
        cfg = make_cfg(project, *TINY_CORPUS, *FAST_TRAINING, *overrides)
        evaluate.run(cfg)
        metrics = json.loads((project / "reports" / "metrics" / "eval.json").read_text())
        predictions = project / "reports" / "eval" / "test.predictions.jsonl"
        rows = [json.loads(line) for line in predictions.read_text().splitlines()]
        return metrics, rows

    local_metrics, local_rows = evaluated()
    ray_metrics, ray_rows = evaluated("executor=ray", f"executor.address={cluster}")

    def without_speed(metrics: dict) -> dict:
        return {
            split: {k: v for k, v in values.items() if "rtf" not in k}
            for split, values in metrics.items()
        }

    assert without_speed(ray_metrics) == without_speed(local_metrics)
    assert ray_rows == local_rows and len(local_rows) == 6


def test_corpus_import_through_ray_writes_the_local_shards(tmp_path, spoken, cluster):
    manifest = nemo(tmp_path / "source", spoken)
    corrupt = manifest.parent / "audio" / "long0.flac"  # the first voice's clips
    corrupt.write_bytes(b"fLaC then nothing")  # reported and skipped by either executor

    def imported(name: str, executor) -> tuple[ImportReport, dict]:
        cfg = make_cfg(
            tmp_path / name,
            "corpus.source=import",
            f"corpus.importer.path={manifest}",
            "corpus.importer.format=nemo",
        )
        report = import_corpus(
            ImportSettings.of(typed(cfg).corpus), Path(cfg.paths.base_corpus), executor
        )
        corpus = Path(cfg.paths.base_corpus)
        shards = {
            p.relative_to(corpus).as_posix(): p.read_bytes()
            for p in sorted(corpus.rglob("*"))
            if p.is_file() and p.suffix in (".wav", ".jsonl")
        }
        return report, shards

    local_report, local_shards = imported("local", LOCAL)
    on_ray = executor_for(ExecutorSettings(kind="ray", address=cluster, actors=2))
    ray_report, ray_shards = imported("ray", on_ray)

    unreadable = [e for e in local_report.excluded if "long0.flac" in e]
    assert unreadable and ray_report.excluded == local_report.excluded
    assert ray_report.clips == local_report.clips == len(spoken) - len(unreadable)
    assert len([name for name in local_shards if name.endswith(".wav")]) == local_report.clips
    assert ray_shards == local_shards  # the same audio and manifests, byte for byte


def test_features_computed_on_ray_are_the_local_ones(project, cluster):
    settings = typed(make_cfg(project, *TINY_CORPUS, *FAST_TRAINING))
    model, processor = load_checkpoint(project / "models" / "current" / "best")
    inputs = processor.inputs(model, settings.features)
    rows = list(iter_corpus(project / "data" / "corpus", ["train"]))[:30]
    missing = rows[0].replace(id="gone", audio_filepath=str(project / "gone.wav"), manifest=None)
    rows.append(missing)
    on_ray = executor_for(ExecutorSettings(kind="ray", address=cluster, actors=2))

    def loaded(executor):
        return load_examples(rows, processor.tokenizer, inputs, 20.0, "features", None, executor)

    (local, local_report), (remote, ray_report) = loaded(LOCAL), loaded(on_ray)
    assert [e.id for e in remote] == [e.id for e in local] and len(local) == 30
    assert all(torch.equal(a.features, b.features) for a, b in zip(local, remote, strict=True))
    assert ray_report.skipped == local_report.skipped == {"missing_file": 1}
