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
