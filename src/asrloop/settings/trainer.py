"""``conf/trainer``: device, number formats and threads for training, evaluation and serving."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING


@dataclass
class TrainerSettings:
    device: str = MISSING  # auto | cpu | cuda | cuda:1 | mps
    precision: str = MISSING  # auto | fp32 | bf16 | fp16
    inference_precision: str = "fp32"  # what the code assumed before the key existed
    threads: int | str = MISSING  # a count, or auto
    ddp_find_unused_parameters: bool | str = MISSING  # or auto
