"""Weight averaging against forgetting: the fine-tuned model pulled back towards the model it
started from (Vander Eeckt & Van hamme, "Weight averaging: a simple yet effective method to
overcome catastrophic forgetting in ASR", arXiv:2210.15282).

``averaged = share * start + (1 - share) * tuned`` for every floating-point tensor whose shape
both have; a tensor the fine-tune reshaped (a CTC head grown for new symbols) keeps its tuned
values. The averaged folder carries a marker (``WEIGHT_AVERAGE``), so averaging twice (a rerun
after a kill) is impossible.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from asrloop.artifacts import WEIGHT_AVERAGE
from asrloop.jsonio import read_json, write_json


def average_weights(
    start: Mapping[str, torch.Tensor], tuned: Mapping[str, torch.Tensor], share: float
) -> dict[str, torch.Tensor]:
    """``share`` of ``start`` and the rest of ``tuned``, tensor by tensor."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the start model's share must be in [0, 1], got {share}")
    out = {}
    for name, value in tuned.items():
        old = start.get(name)
        if old is None or old.shape != value.shape or not value.is_floating_point():
            out[name] = value
            continue
        mixed = share * old.to(value.device, torch.float32) + (1 - share) * value.float()
        out[name] = mixed.to(value.dtype)
    return out


def snapshot(model) -> dict[str, torch.Tensor]:
    """A CPU copy of a model's weights (the start of a fine-tune)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def averaged_with(folder: Path) -> dict | None:
    """What a model folder was averaged with (``None``: never averaged)."""
    marker = Path(folder) / WEIGHT_AVERAGE
    return read_json(marker) if marker.exists() else None


def mark_averaged(folder: Path, share: float, start_version: str | None) -> None:
    write_json(
        Path(folder) / WEIGHT_AVERAGE, {"start_share": share, "start_version": start_version}
    )
