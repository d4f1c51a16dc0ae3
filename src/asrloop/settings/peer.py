"""``conf/peer``: the independent baseline's sample size."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING


@dataclass
class PeerSettings:
    max_clips: int = MISSING
