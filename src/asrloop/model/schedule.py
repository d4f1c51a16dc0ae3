"""Learning-rate schedules, built from config (``train.scheduler``, ``_partial_: true``), and
layer-wise learning rates (``train.layer_lr_decay``)."""

from __future__ import annotations

import math

from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int, floor: float) -> float:
    """Linear warmup to 1, then cosine decay to ``floor`` at ``total_steps``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def warmup_cosine(
    optimizer: Optimizer,
    total_steps: int,
    warmup_steps: int,
    floor: float,
    last_step: int = 0,
) -> LambdaLR:
    """A scheduler whose learning rate is already the one for step ``last_step`` (a resumed run
    continues the curve; the optimizer then carries ``initial_lr`` from its saved state)."""

    def factor(step: int) -> float:
        return warmup_cosine_factor(step, warmup_steps, total_steps, floor)

    return LambdaLR(optimizer, factor, last_epoch=last_step - 1)


def layer_stack(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The encoder's stack of layers: the ``*layers`` ModuleList holding the most parameters
    (``wav2vec2.encoder.layers``, ``encoder.conformer_layers``, ``encoder.layers``...)."""
    stacks = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.ModuleList) and name.endswith("layers") and len(module)
    ]
    if not stacks:
        raise ValueError(f"{type(model).__name__} has no stack of encoder layers")
    return max(stacks, key=lambda item: sum(p.numel() for p in item[1].parameters()))


def layerwise_groups(model: nn.Module, lr: float, decay: float) -> list[dict]:
    """Parameter groups whose learning rate falls by ``decay`` per layer from the top: layer k
    (1-based) of L learns at ``lr * decay^(L+1-k)``, what comes before the stack (feature
    encoder, embeddings) at ``lr * decay^(L+1)``, what comes after (head) at ``lr``. Frozen
    parameters are left out."""
    _, stack = layer_stack(model)
    depth_of = {}
    for k, layer in enumerate(stack, start=1):
        for parameter in layer.parameters():
            depth_of[id(parameter)] = k
    top = len(stack) + 1
    groups: dict[int, list] = {}
    seen_stack = False
    for parameter in model.parameters():
        depth = depth_of.get(id(parameter))
        if depth is not None:
            seen_stack = True
        else:
            depth = top if seen_stack else 0
        if parameter.requires_grad:
            groups.setdefault(depth, []).append(parameter)
    return [
        {"params": params, "lr": lr * decay ** (top - depth)}
        for depth, params in sorted(groups.items())
    ]
