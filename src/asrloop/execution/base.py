"""What every executor offers: ``map(work, items)``, results in item order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

Size = Callable[[Any], int]


def one(_item: Any) -> int:
    return 1


class Executor(Protocol):
    def map(
        self, work: Callable[[Any], Any], items: Sequence[Any], description: str, size: Size = one
    ) -> list[Any]:
        """``work(item)`` for every item, in item order; progress counts ``size(item)``."""
        ...
