"""Nothing of the user's is ever deleted: a step removes only folders it wrote and recorded.

A step that writes shard folders into an output folder (``corpus synth`` and ``corpus import``
into ``data/corpus/base``) records their names in ``asrloop-shards.json`` there. Before it
writes, :func:`claim` stops it with a :class:`ForeignFolderError` when the output folder holds a
folder it did not write (not recorded, and without the digest file every asrloop shard has);
:func:`prune` removes recorded folders that the current plan no longer has.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from asrloop.artifacts import PLAN_DIGEST, SHARD_RECORD
from asrloop.errors import DataError
from asrloop.fsutil import OLD_SUFFIX
from asrloop.records import JsonRecord

# Digest files asrloop writes into each shard it makes (synthesis and import; grow): a folder
# holding one was written by asrloop, even before the record existed.
SIGNATURES = (PLAN_DIGEST, "content.sha256")
PARTIAL = ".partial"  # a shard being written beside its place
USER_CORPUS = "data/corpus/user"


class ForeignFolderError(DataError):
    """A folder a step would own holds data it did not write."""


@dataclass
class WrittenFolders(JsonRecord):
    """The folders a step wrote into its output folder."""

    KIND: ClassVar[str] = "written_folders"

    step: str
    folders: list[str] = field(default_factory=list)


def written_by_asrloop(folder: Path) -> bool:
    return folder.name.endswith(PARTIAL) or any((folder / s).exists() for s in SIGNATURES)


def recorded(root: Path) -> set[str]:
    record = WrittenFolders.load_if_exists(root / SHARD_RECORD)
    return set(record.folders) if record else set()


def foreign_folders(root: Path) -> list[Path]:
    """Folders under ``root`` that asrloop did not write."""
    if not root.is_dir():
        return []
    mine = recorded(root)
    return sorted(
        p for p in root.iterdir() if p.is_dir() and p.name not in mine and not written_by_asrloop(p)
    )


def refuse_foreign(folders: Iterable[Path], step: str, advice: str) -> None:
    folders = list(folders)
    if folders:
        names = ", ".join(str(f) for f in folders)
        raise ForeignFolderError(
            f"{names}: not written by `asrloop {step}`, which owns {folders[0].parent}; "
            f"asrloop never deletes or overwrites it. {advice}"
        )


def claim(root: Path, step: str) -> None:
    """Stop unless every folder under ``root`` is one asrloop wrote."""
    refuse_foreign(
        foreign_folders(root),
        step,
        f"Move it to {USER_CORPUS}/ (your own shards: read with the corpus, versioned with "
        f"`dvc add`), or bring your corpus in with `asrloop corpus import`; see data/README.md.",
    )


DROP_ADVICE = "Name the drop differently (scenario.drop.name) or move that folder."


def claim_folder(folder: Path, step: str, advice: str = DROP_ADVICE) -> None:
    """Stop unless ``folder`` is absent or a folder asrloop wrote (a drop, a grown shard)."""
    if folder.is_dir() and not written_by_asrloop(folder):
        refuse_foreign([folder], step, advice)


def record(root: Path, step: str, names: Iterable[str]) -> None:
    """Add ``names`` to the folders ``step`` wrote under ``root``."""
    WrittenFolders(step, sorted(recorded(root) | set(names))).write(root / SHARD_RECORD)


def prune(root: Path, step: str, keep: Iterable[str]) -> list[str]:
    """Remove folders under ``root`` that asrloop wrote and ``keep`` does not name."""
    keep = set(keep)
    mine = recorded(root)
    removed = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        ours = folder.name in mine or written_by_asrloop(folder)
        kept = folder.name in keep or folder.name.removesuffix(OLD_SUFFIX) in keep  # a swap's
        if ours and not kept:
            shutil.rmtree(folder)
            removed.append(folder.name)
    if root.is_dir():
        WrittenFolders(
            step, sorted((mine - set(removed)) & {p.name for p in root.iterdir()})
        ).write(root / SHARD_RECORD)
    return removed
