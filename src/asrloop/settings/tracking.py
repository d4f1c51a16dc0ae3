"""``conf/tracking`` (``sqlite`` and ``server``, one shape): MLflow URI, names, logged params."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING


@dataclass
class TrackingSettings:
    uri: str | None = None  # an explicit override beats MLFLOW_TRACKING_URI and default_uri
    default_uri: str = MISSING
    artifact_root: str | None = None
    experiment: str = MISSING
    registered_model: str = MISSING
    champion_alias: str = MISSING
    log_params: list[str] = field(default_factory=list)
