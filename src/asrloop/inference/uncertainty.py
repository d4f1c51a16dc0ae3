"""How unsure the acoustic model is of a clip, from its CTC posteriors (active learning).

Most CTC frames are confident blanks: averaging over them would make every clip look sure. The
scores average over *speech frames* only (the blank's posterior below one half), and fall back to
every frame when a clip has none:

- ``entropy``: the mean entropy (nats) of the frame posteriors; higher is less sure;
- ``margin``: the mean gap between the best and second-best token posterior; lower is less sure.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FrameUncertainty:
    entropy: float
    margin: float
    frames: int  # the frames averaged (a clip's chunks combine weighted by them)


def frame_uncertainty(
    log_probs: torch.Tensor, lengths: torch.Tensor, blank_id: int
) -> list[FrameUncertainty]:
    """One score per batch row of ``log_probs`` ([B, T, V] log-posteriors), over its valid
    frames (``lengths``)."""
    scores = []
    for row, size in zip(log_probs, lengths.tolist(), strict=True):
        frames = row[: max(int(size), 1)].float()
        probs = frames.exp()
        speech = probs[:, blank_id] < 0.5
        if speech.any():
            frames, probs = frames[speech], probs[speech]
        entropy = -(probs * frames).sum(-1)
        top = probs.topk(min(2, probs.shape[-1]), dim=-1).values
        margin = top[:, 0] - (top[:, 1] if top.shape[-1] > 1 else 0.0)
        scores.append(
            FrameUncertainty(float(entropy.mean()), float(margin.mean()), int(frames.shape[0]))
        )
    return scores


def combine(parts: list[FrameUncertainty]) -> FrameUncertainty | None:
    """A clip's score from its chunks' scores (weighted by frames); None for no chunks."""
    total = sum(part.frames for part in parts)
    if not parts or total == 0:
        return None
    return FrameUncertainty(
        round(sum(p.entropy * p.frames for p in parts) / total, 4),
        round(sum(p.margin * p.frames for p in parts) / total, 4),
        total,
    )
