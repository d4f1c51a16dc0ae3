"""The Label Studio round trip against a real Label Studio export (tests/fixtures/label_studio)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from asrloop.cli import main
from asrloop.errors import DataError
from asrloop.loop.review_queue import read_queue
from asrloop.review.label_studio import (
    LABEL_CONFIG,
    ExportSettings,
    import_decisions,
    read_export,
    write_tasks,
)
from asrloop.review.store import Decision, ReviewStore, StaleRowError
from tests.review_data import ALPHABET

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "label_studio"
DROP = "brexit-drop1"


@pytest.fixture
def project(tmp_path) -> Path:
    """A project root whose drop queue is the one the fixture's tasks were exported from."""
    folder = tmp_path / "data" / "reviews" / DROP
    folder.mkdir(parents=True)
    shutil.copy(FIXTURE / "queue.jsonl", folder / "queue.jsonl")
    return tmp_path


def store(root: Path) -> ReviewStore:
    return ReviewStore(root / "data" / "reviews" / DROP, ALPHABET, root)


def test_export_writes_the_tasks_label_studio_imported(project, tmp_path):
    settings = ExportSettings(
        "pending", tmp_path / "out" / "tasks.json", "/data/local-files/?d={path}", project
    )
    tasks_file, config_file = write_tasks(store(project).items(), settings, f"asrloop:{DROP}")
    tasks = json.loads(tasks_file.read_text())
    assert tasks == json.loads((FIXTURE / "tasks.json").read_text())
    assert config_file.read_text() == (FIXTURE / "labeling-config.xml").read_text() == LABEL_CONFIG
    first = tasks[0]
    assert first["data"]["audio"] == "/data/local-files/?d=audio/drop-00001.wav"
    prediction = first["predictions"][0]["result"][0]
    assert prediction["value"]["text"] == [first["data"]["hypothesis"]]
    assert [t["data"]["clip_id"] for t in tasks] == ["drop-00001", "drop-00002", "drop-00003"]
    everything = write_tasks(store(project).items(), replace(settings, rows="all"), "m")
    assert len(json.loads(everything[0].read_text())) == 4


def test_import_of_a_real_export(project):
    annotated = read_export(FIXTURE / "export.json")
    assert [a.clip_id for a in annotated] == ["drop-00001", "drop-00002"]  # 3 was not annotated
    saved = import_decisions(store(project), annotated)
    queue = {item.id: item for item in read_queue(project / "data" / "reviews" / DROP)}
    approved, rejected = queue["drop-00001"], queue["drop-00002"]
    assert (approved.status, approved.reference, approved.reviewer, approved.revision) == (
        "approved",
        "the brexit deal was signed",  # normalised
        "label-studio:user-1",
        1,
    )
    assert rejected.status == "rejected"
    assert rejected.reference == "break it talks resumed in brussels"
    assert queue["drop-00003"].status == "pending"
    assert queue["drop-00004"].reviewer == "demo:references"
    assert [item.id for item in saved] == ["drop-00001", "drop-00002"]
    # importing the same export again changes nothing
    again = import_decisions(store(project), read_export(FIXTURE / "export.json"))
    assert again == saved


def test_import_refuses_rows_changed_since_the_export(project):
    changed = store(project).item("drop-00001")
    store(project).decide(Decision("drop-00001", "rejected", "", "ann", changed.tag))
    with pytest.raises(StaleRowError, match="drop-00001 was changed after you loaded it"):
        import_decisions(store(project), read_export(FIXTURE / "export.json"))
    queue = {item.id: item for item in read_queue(project / "data" / "reviews" / DROP)}
    assert (queue["drop-00001"].status, queue["drop-00001"].reviewer) == ("rejected", "ann")
    assert queue["drop-00002"].status == "pending"  # all or nothing


def test_an_export_without_a_decision_names_the_task(tmp_path):
    tasks = json.loads((FIXTURE / "export.json").read_text())
    tasks[0]["annotations"][0]["result"] = tasks[0]["annotations"][0]["result"][:1]
    broken = tmp_path / "export.json"
    broken.write_text(json.dumps(tasks))
    with pytest.raises(DataError, match=r"task 1: clip drop-00001: the 'decision' choice is \[\]"):
        read_export(broken)


def test_review_export_and_import_commands(project, tmp_path):
    out = tmp_path / "tasks.json"
    main(
        [
            "review",
            "export",
            "--format",
            "label-studio",
            "--output",
            str(out),
            f"paths.root={project}",
        ]
    )
    assert len(json.loads(out.read_text())) == 3
    main(["review", "import", str(FIXTURE / "export.json"), f"paths.root={project}"])
    statuses = [item.status for item in read_queue(project / "data" / "reviews" / DROP)]
    assert statuses == ["approved", "rejected", "pending", "approved"]
