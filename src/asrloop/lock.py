"""One loop per project tree: an exclusive lock on ``<root>/.asrloop.lock`` naming its holder.

The lock is an ``flock`` on the file, so the kernel releases it when the holder dies (even by
SIGKILL); the PID written inside is only for the message a second loop prints.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from asrloop.artifacts import PROJECT_LOCK as LOCK_NAME
from asrloop.errors import AsrloopError


class ProjectBusy(AsrloopError):
    """Another loop holds this project."""


@contextmanager
def project_lock(root: Path, what: str = "loop") -> Iterator[None]:
    path = Path(root) / LOCK_NAME
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "an unknown process"
        handle.close()
        raise ProjectBusy(
            f"another asrloop {holder} holds {root} ({path}): wait for it to finish or stop it"
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{what} (PID {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')})")
        handle.flush()
        yield
    finally:
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
