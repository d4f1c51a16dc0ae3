"""``conf/team``: the local team stack of ``make team-up``."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING

from asrloop.settings.common import Number


@dataclass
class TeamSettings:
    dir: str = MISSING
    mlflow_port: int = MISSING
    s3_port: int = MISSING
    bucket: str = MISSING
    dvc_remote: str | None = None  # null: leave DVC alone
    start_timeout: Number = MISSING
