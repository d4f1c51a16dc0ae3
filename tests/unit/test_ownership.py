"""Nothing of the user's is ever deleted: steps remove only the folders they wrote."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from asrloop.artifacts import Layout
from asrloop.config import compose
from asrloop.corpus import ownership
from asrloop.corpus.synth_corpus import build_corpus
from asrloop.corpus.versioning import remove_untracked_shards
from asrloop.settings import typed
from tests.helpers import run
from tests.unit.test_corpus_import import digests


def user_shard(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "a.wav").write_bytes(b"RIFF my own audio")
    (folder / "manifest.jsonl").write_text('{"audio_filepath": "a.wav", "duration": 1.0}\n')
    return folder


def test_a_user_shard_in_base_stops_synthesis_untouched(tiny_corpus, tmp_path):
    cfg, _ = tiny_corpus
    base = tmp_path / "data" / "corpus" / "base"
    shutil.copytree(Path(cfg.paths.base_corpus), base)
    mine = user_shard(base / "my-shard")
    before = digests(mine)
    with pytest.raises(ownership.ForeignFolderError) as error:
        build_corpus(typed(cfg).corpus, [], base)
    assert str(mine) in str(error.value) and "data/corpus/user" in str(error.value)
    assert digests(mine) == before


def test_prune_removes_recorded_and_signed_folders_only(tmp_path):
    for name in ("recorded", "signed", "users", "kept"):
        (tmp_path / name).mkdir()
    (tmp_path / "signed" / "plan.sha256").write_text("x\n")
    ownership.record(tmp_path, "corpus synth", ["recorded", "kept"])
    user_shard(tmp_path / "users2")
    assert [p.name for p in ownership.foreign_folders(tmp_path)] == ["users", "users2"]
    removed = ownership.prune(tmp_path, "corpus synth", keep=["kept"])
    assert removed == ["recorded", "signed"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["kept", "users", "users2"]
    assert ownership.recorded(tmp_path) == {"kept"}


def test_a_user_folder_in_a_drop_place_stops_the_drop(tmp_path):
    folder = user_shard(tmp_path / "drops" / "brexit-drop1")
    with pytest.raises(ownership.ForeignFolderError, match=r"scenario\.drop\.name"):
        ownership.claim_folder(folder, "drop synth")
    ownership.claim_folder(tmp_path / "drops" / "absent", "drop synth")  # nothing there: fine


def test_restoring_a_version_keeps_user_folders_in_grown(project_repo):
    grown = project_repo / "data" / "corpus" / "grown"
    mine = user_shard(grown / "my-shard")
    written = grown / "drop7"
    written.mkdir()
    (written / "content.sha256").write_text("x\n")
    run(["git", "status"], project_repo)
    layout = Layout.from_paths(compose([f"paths.root={project_repo}"]).paths)
    removed = remove_untracked_shards(layout)
    assert removed == ["drop7"] and mine.exists() and not written.exists()
