"""Folder swaps that a kill cannot leave half done.

:func:`replace_dir` puts a finished temporary folder in place of the final one with renames
only: ``final`` -> ``final.old``, ``tmp`` -> ``final``, then ``final.old`` is removed. At every
moment either ``final`` or ``final.old`` holds a complete version; :func:`recover_dir` (called
before a folder is read or replaced) puts ``final.old`` back when a kill struck between the
two renames and clears leftovers.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from asrloop.faults import fault_point

OLD_SUFFIX = ".old"


def _old(final: Path) -> Path:
    return final.with_name(final.name + OLD_SUFFIX)


def recover_dir(final: Path) -> None:
    """Undo a swap a kill interrupted: restore ``final.old`` when ``final`` is missing."""
    old = _old(final)
    if not old.exists():
        return
    if final.exists():
        shutil.rmtree(old)
    else:
        os.replace(old, final)


def replace_dir(tmp: Path, final: Path) -> None:
    """Make the complete folder ``tmp`` the new ``final`` (see the module docstring)."""
    recover_dir(final)
    old = _old(final)
    if final.exists():
        os.replace(final, old)
        fault_point("swap.between_renames")
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old)


def inside(path: str | Path, root: str | Path) -> Path | None:
    """``path`` (relative paths start at ``root``) resolved, symlinks followed, when it lies
    inside ``root``; None when it leaves it (``..``, an absolute path elsewhere, a link out)."""
    if not str(path) or "\x00" in str(path):
        return None
    root = Path(root).resolve()
    candidate = Path(path) if Path(path).is_absolute() else root / path
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError):  # a symlink loop, a name too long
        return None
    return resolved if resolved.is_relative_to(root) else None


def inside_any(path: str | Path, base: str | Path, roots: Iterable[str | Path]) -> Path | None:
    """``path`` (relative paths start at ``base``) resolved inside one of ``roots``, else None."""
    if not str(path) or "\x00" in str(path):
        return None
    candidate = Path(path) if Path(path).is_absolute() else Path(base) / path
    for root in roots:
        found = inside(candidate, root)
        if found is not None:
            return found
    return None
