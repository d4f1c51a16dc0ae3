"""Named fault points: places where a test may kill the process for real (SIGKILL).

Code marks every write that matters with ``fault_point("name")``. Nothing happens unless the
environment variable ``ASRLOOP_FAULT`` names that point; then the process sends itself SIGKILL
(no cleanup, no ``finally``: a real death). ``ASRLOOP_FAULT=name@N`` kills at the N-th time the
point is reached (default 1). The fault campaign (``tests/faults/``) arms each point in turn,
reruns the step and checks that nothing was lost.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

FAULT_ENV = "ASRLOOP_FAULT"
MARK_ENV = "ASRLOOP_FAULT_MARK"  # a file the dying process creates, so a test knows it fired
_hits: Counter = Counter()


def armed() -> tuple[str, int] | None:
    value = os.environ.get(FAULT_ENV, "")
    if not value:
        return None
    name, _, nth = value.partition("@")
    return name, int(nth or 1)


def fault_point(name: str) -> None:
    """Die here (SIGKILL) when ``ASRLOOP_FAULT`` arms this point; otherwise do nothing."""
    target = armed()
    if target is None or target[0] != name:
        return
    _hits[name] += 1
    if _hits[name] == target[1]:
        mark = os.environ.get(MARK_ENV)
        if mark:
            with open(mark, "w") as handle:
                handle.write(f"{name} {os.getpid()}\n")
        os.kill(os.getpid(), signal.SIGKILL)
