"""Data versions: DVC pointers and lock files committed to git, tagged ``corpus-vN``, pushed.

A version commit holds pointer and lock files only (never the user's unrelated changes), so
``git checkout corpus-v1 && dvc checkout`` restores that corpus exactly. Tags are immutable: an
interrupted versioning step leaves every earlier version intact, and a rerun completes it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from asrloop.progress import console

TAG_PREFIX = "corpus-v"


class VersioningError(RuntimeError):
    pass


def _run(args: Sequence[str], root: Path, check: bool = True) -> str:
    result = subprocess.run(list(args), cwd=root, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise VersioningError(f"{' '.join(args)} failed in {root}:\n{result.stderr.strip()}")
    return result.stdout.strip()


def dvc(root: Path, *args: str, check: bool = True) -> str:
    import sys

    return _run([sys.executable, "-m", "dvc", *args], root, check)


def git(root: Path, *args: str, check: bool = True) -> str:
    return _run(["git", *args], root, check)


def corpus_tags(root: Path) -> list[str]:
    tags = git(root, "tag", "--list", f"{TAG_PREFIX}*").split()
    return sorted(tags, key=lambda t: int(re.sub(r"\D", "", t) or 0))


def next_tag(root: Path) -> str:
    tags = corpus_tags(root)
    return f"{TAG_PREFIX}{int(tags[-1].removeprefix(TAG_PREFIX)) + 1 if tags else 1}"


def tag_at_head(root: Path) -> str | None:
    tags = git(root, "tag", "--points-at", "HEAD", "--list", f"{TAG_PREFIX}*").split()
    return tags[-1] if tags else None


def track_shards(root: Path, shard_dirs: Sequence[Path]) -> list[Path]:
    """``dvc add`` each shard folder (one pointer each); returns the pointer files."""
    pointers = []
    for shard in shard_dirs:
        dvc(root, "add", "--quiet", str(shard.relative_to(root)))
        pointers.append(shard.with_name(shard.name + ".dvc"))
    return pointers


def version_files(root: Path) -> list[str]:
    """Pointer, lock and DVC-generated ignore files under data/ and pipelines/."""
    files = [p for p in (root / "data").rglob("*.dvc")] if (root / "data").exists() else []
    files += [p for p in (root / "data").rglob(".gitignore")] if (root / "data").exists() else []
    files += [p for p in (root / "pipelines").glob("dvc.lock")]
    files += [p for p in (root / "pipelines").glob(".gitignore")]
    return sorted(str(p.relative_to(root)) for p in files)


def commit_version(root: Path, message: str, push: bool = True) -> str:
    """Commit pointer/lock files, tag the next ``corpus-vN`` and push data; returns the tag.

    Nothing changed since the last tag: the existing tag is returned and nothing is committed.
    """
    root = Path(root)
    if push:
        dvc(root, "push", "--quiet")
    files = version_files(root)
    if files:
        git(root, "add", "--", *files)
    staged = git(root, "diff", "--cached", "--name-only", "--", *files) if files else ""
    if staged:
        git(root, "commit", "--quiet", "-m", message, "--", *files)
    current = tag_at_head(root)
    if current and not staged:
        return current
    if not staged and corpus_tags(root):
        return corpus_tags(root)[-1]
    tag = next_tag(root)
    git(root, "tag", "-a", tag, "-m", message)
    console.print(f"data version [bold]{tag}[/]: {message}")
    return tag


def restore_version(root: Path, tag: str) -> None:
    """``git checkout <tag>`` then the matching data (from the DVC cache, else the remote)."""
    git(root, "checkout", "--quiet", tag)
    if dvc(root, "checkout", "--quiet", "--force", check=False) == "":
        dvc(root, "pull", "--quiet", "--force", check=False)


def run(cfg: DictConfig) -> None:
    """``asrloop corpus version``: commit the current data state as the next corpus version."""
    root = Path(cfg.paths.root)
    grown = Path(cfg.paths.grown_corpus)
    untracked = [d for d in sorted(grown.iterdir()) if d.is_dir() and not
                 d.with_name(d.name + ".dvc").exists()] if grown.exists() else []
    track_shards(root, untracked)
    console.print(commit_version(root, "corpus: manual version", push=bool(cfg.loop.push)))
