"""Data versions: DVC pointers and lock files committed to git, tagged ``corpus-vN``, pushed.

A version commit holds pointer and lock files only (never the user's unrelated changes), so
``git checkout corpus-v1 && dvc checkout`` restores that corpus exactly. Tags are immutable: an
interrupted versioning step leaves every earlier version intact, and a rerun completes it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import yaml

from asrloop.artifacts import Layout
from asrloop.errors import StepFailed
from asrloop.faults import fault_point
from asrloop.progress import console

TAG_PREFIX = "corpus-v"


class VersioningError(StepFailed):
    """A git or DVC command of data versioning failed (the message has its output)."""


def _run(args: Sequence[str], root: Path, check: bool = True) -> str:
    result = subprocess.run(list(args), cwd=root, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise VersioningError(f"{' '.join(args)} failed in {root}:\n{result.stderr.strip()}")
    return result.stdout.strip()


def dvc(root: Path, *args: str, check: bool = True) -> str:
    import sys

    return _run([sys.executable, "-m", "dvc", *args], root, check)


def git(root: Path, *args: str, check: bool = True) -> str:
    return _run(["git", *_identity(root), *args], root, check)


def _identity(root: Path) -> list[str]:
    """A committer identity for data-version commits on machines that have none configured."""
    result = subprocess.run(
        ["git", "config", "user.email"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.stdout.strip():
        return []
    return ["-c", "user.name=asrloop", "-c", "user.email=asrloop@localhost"]


def corpus_tags(root: Path) -> list[str]:
    tags = git(root, "tag", "--list", f"{TAG_PREFIX}*").split()
    return sorted(tags, key=lambda t: int(re.sub(r"\D", "", t) or 0))


def next_tag(root: Path) -> str:
    tags = corpus_tags(root)
    return f"{TAG_PREFIX}{int(tags[-1].removeprefix(TAG_PREFIX)) + 1 if tags else 1}"


def track_shards(root: Path, shard_dirs: Sequence[Path]) -> list[Path]:
    """``dvc add`` each shard folder (one pointer each); returns the pointer files."""
    pointers = []
    for shard in shard_dirs:
        dvc(root, "add", "--quiet", str(shard.relative_to(root)))
        fault_point("versioning.after_dvc_add")
        pointers.append(shard.with_name(shard.name + ".dvc"))
    return pointers


def version_files(layout: Layout) -> list[str]:
    """Pointer, lock and DVC-generated ignore files under the data folder and pipelines/."""
    root, data = layout.root, layout.data
    files = [p for p in data.rglob("*.dvc")] if data.exists() else []
    files += [p for p in data.rglob(".gitignore")] if data.exists() else []
    files += list(data.glob("*.sha256"))  # the frozen regression set's record
    for folder in (layout.reviews, layout.serving):  # a person's decisions, serving records
        files += [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    # the lock, and the params snapshot (dvc.yaml's templating reads it)
    files += [p for p in (layout.dvc_lock(), layout.params_file()) if p.exists()]
    files += [p for p in layout.pipeline_dir().glob(".gitignore")]
    files += [root / f for f in metric_files(layout)]
    return sorted(str(p.relative_to(root)) for p in files)


def metric_files(layout: Layout) -> list[str]:
    """The pipeline's DVC metrics and plots (``reports/metrics/``), committed beside the lock so
    ``dvc metrics diff`` and ``dvc plots diff`` can compare revisions."""
    return [str(p.relative_to(layout.root)) for p in layout.metric_files()]


def _pointer_digests(text: str, key: str = "outs") -> list[tuple[str, str]]:
    data = yaml.safe_load(text) or {}
    return [(o["path"], o.get("md5", "")) for o in data.get(key, [])]


def data_fingerprint(layout: Layout, rev: str | None = None) -> str:
    """What identifies a data version: the corpus stage's outputs and every ``.dvc`` pointer,
    in the working tree (``rev`` None) or at a git revision. Lock entries of other stages
    (models, reports) do not count."""

    root, data = layout.root, layout.data

    def read(path: str) -> str:
        if rev is None:
            file = root / path
            return file.read_text() if file.exists() else ""
        return git(root, "show", f"{rev}:{path}", check=False)

    if rev is None:
        pointers = (
            [str(p.relative_to(root)) for p in data.rglob("*.dvc") if p.is_file()]
            if data.exists()
            else []
        )
    else:
        data_dir = str(data.relative_to(root))
        listed = git(root, "ls-tree", "-r", "--name-only", rev, "--", data_dir, check=False)
        pointers = [p for p in listed.splitlines() if p.endswith(".dvc")]
    entries = []
    for pointer in sorted(pointers):
        entries += [(pointer, *d) for d in _pointer_digests(read(pointer))]
    lock = yaml.safe_load(read(str(layout.dvc_lock().relative_to(root))) or "{}") or {}
    corpus_stage = lock.get("stages", {}).get("corpus", {})
    entries += [("corpus", o["path"], o.get("md5", "")) for o in corpus_stage.get("outs", [])]
    return hashlib.sha256(repr(sorted(entries)).encode()).hexdigest()


def commit_version(layout: Layout, message: str, push: bool = True) -> str:
    """Commit pointer/lock files, tag the next ``corpus-vN`` and push data; returns the tag.

    When the data is the same as at the latest tag, that tag is returned and no new one made.
    """
    root = layout.root
    if push:
        dvc(root, "push", "--quiet")
        fault_point("versioning.after_push")
    files = version_files(layout)
    if files:
        git(root, "add", "--", *files)
    staged = git(root, "diff", "--cached", "--name-only", "--", *files) if files else ""
    if staged:
        fault_point("versioning.before_commit")
        git(root, "commit", "--quiet", "-m", message, "--", *files)
    tags = corpus_tags(root)
    if tags and data_fingerprint(layout, tags[-1]) == data_fingerprint(layout):
        return tags[-1]
    tag = next_tag(root)
    fault_point("versioning.before_tag")
    git(root, "tag", "-a", tag, "-m", message)
    console.print(f"data version [bold]{tag}[/]: {message}")
    return tag


def remove_untracked_shards(layout: Layout) -> list[str]:
    """Remove grown shards whose pointer this revision does not track in git (an uncommitted
    pointer from an interrupted step goes too); their data stays in the DVC cache. A folder
    that ``asrloop grow`` did not write is left alone."""
    from asrloop.corpus.ownership import written_by_asrloop

    root, grown = layout.root, layout.grown_corpus
    tracked = set(git(root, "ls-files", "--", str(grown.relative_to(root))).splitlines())
    removed = []
    for folder in sorted(grown.iterdir()) if grown.exists() else []:
        pointer = folder.with_name(folder.name + ".dvc")
        if folder.is_dir() and not written_by_asrloop(folder):
            console.print(f"[yellow]kept[/] {folder}: not written by asrloop grow")
        elif folder.is_dir() and str(pointer.relative_to(root)) not in tracked:
            shutil.rmtree(folder)
            pointer.unlink(missing_ok=True)
            removed.append(folder.name)
    return removed


def data_targets(layout: Layout) -> list[str]:
    """What a data version holds: the corpus stage's outputs and every ``.dvc`` pointer (models,
    vocabularies and reports are rebuilt by the pipeline, not restored)."""
    root = layout.root
    targets = [str(p.relative_to(root)) for p in sorted(layout.data.rglob("*.dvc"))]
    lock = layout.dvc_lock()
    stages = (yaml.safe_load(lock.read_text()) or {}).get("stages", {}) if lock.exists() else {}
    if "corpus" in stages:
        targets.insert(0, f"{layout.dvc_yaml().relative_to(root)}:corpus")
    return targets


def restore_version(layout: Layout, tag: str) -> None:
    """``git checkout <tag>``, drop shards that version did not have, check out its data
    (from the DVC cache, or pulled from the remote)."""
    root = layout.root
    git(root, "checkout", "--quiet", tag)
    remove_untracked_shards(layout)
    targets = data_targets(layout)
    try:
        dvc(root, "checkout", "--quiet", "--force", *targets)  # from the local cache
    except VersioningError as cached:
        try:  # not all in the cache: fetch the rest from the remote
            dvc(root, "pull", "--quiet", "--force", *targets)
        except VersioningError as pulled:
            raise VersioningError(
                f"cannot restore {tag}: data missing from the cache and the remote.\n"
                f"dvc checkout: {cached}\ndvc pull: {pulled}"
            ) from pulled


def untracked_shards(grown: Path) -> list[Path]:
    """Grown shard folders without a ``.dvc`` pointer yet (``corpus version`` tracks them)."""
    if not grown.exists():
        return []
    return [
        d
        for d in sorted(grown.iterdir())
        if d.is_dir() and not d.with_name(d.name + ".dvc").exists()
    ]
