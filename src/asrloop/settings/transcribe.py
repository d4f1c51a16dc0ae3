"""``conf/transcribe``: the deployed model transcribing production audio."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.common import ModelRef


@dataclass
class ServingLimits:
    """``transcribe.serving``: what a served version accepts (written into its serving.json)."""

    max_rows: int = 64  # clips per request
    max_clip_mb: float = 25.0  # one clip's file bytes
    # folders whose files a request may name in ``path`` (empty: ``path`` is refused);
    # ASRLOOP_SERVING_PATH_ROOTS (os.pathsep-separated) overrides it where the server starts
    path_roots: list[str] = field(default_factory=list)


@dataclass
class TranscribeSettings:
    model: ModelRef = MISSING  # an alias, a version number or a model folder
    input: str = MISSING
    output: str = MISSING
    second_path: bool = MISSING
    serving: ServingLimits = field(default_factory=ServingLimits)
