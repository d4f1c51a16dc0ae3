"""``conf/loop``: iterations of the loop, and whether data versions are committed and pushed."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING


@dataclass
class LoopSettings:
    iterations: int = MISSING
    commit: bool = MISSING
    push: bool = MISSING
