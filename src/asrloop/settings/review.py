"""``conf/review``: the review page and the Label Studio round trip.

The config key ``review.import`` is a Python keyword: the field is declared by name
(:func:`~asrloop.settings.common.keyword_field`) and read with ``getattr(review, "import")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.common import keyword_field


@dataclass
class ReviewExportSettings:
    """``asrloop review export``: tasks for Label Studio and how it fetches each clip."""

    format: str = MISSING  # label-studio
    rows: str = MISSING  # pending | all
    output: str = MISSING
    audio_url: str = MISSING
    audio_root: str = MISSING


@dataclass
class ReviewImportSettings:
    """``asrloop review import FILE``: a Label Studio JSON export."""

    file: str | None = None


class ReviewSettings:
    drop: str = MISSING
    host: str = MISSING
    port: int = MISSING
    allowed_hosts: list[str] = field(default_factory=list)  # Host names beyond loopback
    token: str | None = None  # required when host is not loopback
    reviewer: str = ""
    low_confidence: float = MISSING
    phrases: int = MISSING
    decision_seconds: float = 10.0  # review minutes: each decided row's audio plus this
    budget_minutes: float | None = None  # pending rows are held back once this is spent
    export: ReviewExportSettings = field(default_factory=ReviewExportSettings)


keyword_field(ReviewSettings, "import", ReviewImportSettings, ReviewImportSettings)
ReviewSettings = dataclass(ReviewSettings)
