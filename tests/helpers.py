"""Helpers for tests: the real config shrunk, tiny real corpora copied, git + DVC repos."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from asrloop.config import compose

PROJECT = Path(__file__).resolve().parents[1]

TINY_CORPUS = [
    "corpus.splits.train=40",
    "corpus.splits.dev=6",
    "corpus.splits.test=6",
    "corpus.splits.regression=6",
    "corpus.shard_size=20",
]


def make_cfg(root: Path, *overrides: str):
    """The project's real config with every path under ``root``."""
    return compose([f"paths.root={root}", *overrides])


def copy_corpus(source_root: Path, target_root: Path) -> None:
    shutil.copytree(source_root / "data", target_root / "data", dirs_exist_ok=True)


def run(args: list[str], cwd: Path) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def init_project_repo(root: Path) -> Path:
    """A fresh git + DVC project like a clone of asrloop: pipeline, ignore files, local remote."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pipelines").mkdir(exist_ok=True)
    shutil.copy(PROJECT / "pipelines" / "dvc.yaml", root / "pipelines" / "dvc.yaml")
    shutil.copy(PROJECT / ".gitignore", root / ".gitignore")
    run(["git", "init", "-q", "-b", "main"], root)
    run(["git", "config", "user.email", "test@asrloop"], root)
    run(["git", "config", "user.name", "asrloop test"], root)
    run([sys.executable, "-m", "dvc", "init", "-q"], root)
    run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], root)
    (root / ".dvc" / "config").write_text(
        "[core]\n    analytics = false\n    remote = local\n"
        "['remote \"local\"']\n    url = ../.dvc-remote\n"
    )
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "project"], root)
    return root
