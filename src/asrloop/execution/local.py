"""The local executor: every item in this process, one after another."""

from __future__ import annotations

from typing import Any

from asrloop.execution.base import Size, one
from asrloop.progress import progress_bar


class LocalExecutor:
    def map(self, work, items, description, size: Size = one) -> list[Any]:
        results = []
        with progress_bar(description, sum(size(item) for item in items)) as advance:
            for item in items:
                results.append(work(item))
                advance(size(item))
        return results


LOCAL = LocalExecutor()
