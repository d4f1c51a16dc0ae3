"""``conf/train``: optimizer, schedule, augmentation, batches, budget, checkpoints, warm start.

``optimizer`` and ``scheduler`` are ``_target_`` partials whose other keys belong to the target
(any ``torch.optim`` class takes its own arguments), so they stay free-form; the keys every
target of ours shares are typed all the same (:data:`FREE_FORM`). ``finetune_when_grown`` holds
``from`` plus train settings that replace these while fine-tuning: it is checked as a partial
``TrainSettings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from asrloop.settings.common import FreeFormCheck, ModelRef, keyword_field


@dataclass
class SpecAugmentSettings:
    freq_masks: int = MISSING
    freq_width: int = MISSING
    time_masks: int = MISSING
    time_width: float = MISSING
    gain_db: float = 0.0  # no random gain (what the code did before the key existed)


@dataclass
class TrainSettings:
    optimizer: dict[str, Any] = MISSING
    scheduler: dict[str, Any] = MISSING
    epochs: int = MISSING
    max_minutes: float = MISSING
    max_batch_frames: int = MISSING
    grad_accumulation: int = 1
    layer_lr_decay: float | None = None
    grad_clip: float = MISSING
    log_every: int = MISSING
    eval_every: int = MISSING
    checkpoint_every: int = MISSING
    spec_augment: SpecAugmentSettings = field(default_factory=SpecAugmentSettings)
    init_from: ModelRef | None = None
    finetune_when_grown: dict[str, Any] | None = None
    grown_repeat: int = MISSING
    replay: float | None = None
    max_steps: int | None = None
    output_dir: str = MISSING
    register: bool = MISSING
    calibrate_confidence: bool = MISSING
    average_with_start: float = 0.0  # share of the warm start's weights in the final model
    seed: int = MISSING


@dataclass
class PartialKeys:
    """Keys of our ``_target_`` partials whose type we know; any other key passes."""

    _target_: str = MISSING
    _partial_: bool = False
    lr: float = MISSING
    weight_decay: float = MISSING
    warmup_steps: int = MISSING
    floor: float = MISSING


class FinetuneKeys(TrainSettings):
    """``train.finetune_when_grown``: where to start (``from``) plus train keys to replace."""


keyword_field(FinetuneKeys, "from", ModelRef | None, lambda: None)
FinetuneKeys = dataclass(FinetuneKeys)

FREE_FORM = {
    "train.optimizer": FreeFormCheck(PartialKeys),
    "train.scheduler": FreeFormCheck(PartialKeys),
    "train.finetune_when_grown": FreeFormCheck(FinetuneKeys, strict=True),
}
