"""A Conformer encoder laid out for the CPU's matrix units, parameter for parameter torchaudio's.

``Conformer`` has torchaudio's ``torchaudio.models.Conformer`` state dict (the same module
names and shapes, so every checkpoint trained with either loads into the other) and computes
the same function; tests hold the two to the same outputs. What differs is how it runs:

- batch-first ``[B, T, D]`` throughout, so no layer transposes its input;
- the convolution module's pointwise convolutions run as matrix products over ``[B, T, D]``
  and its depthwise convolution as a channels-last 2-D convolution over the same memory, in
  fp32 (torchaudio's ``[B, D, T]`` Conv1d path is about 3x slower in bf16 on CPU);
- dropout draws its mask 16 bits per random number (:class:`FastDropout`); attention with
  dropout is computed as explicit matrices (SDPA's dropout draws one number per weight), and
  without dropout (inference) by ``scaled_dot_product_attention``.

Measured on 2 cores, a training step of the default model: see ``benchmarks/train_quality.py``.
Kept free of asrloop imports: it is copied into exported model folders as remote code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FastDropout(nn.Dropout):
    """``nn.Dropout`` with the same semantics, about 3x faster on CPU: each 64-bit draw of the
    generator gives four 16-bit mask entries (``p`` rounded to 1/65536) instead of one; on CPU
    ``bernoulli_`` draws one number per element and was 30 % of a training step."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.p >= 1.0:
            return x * 0.0
        count = x.numel()
        draws = torch.empty((count + 3) // 4, dtype=torch.int64, device=x.device)
        bits = draws.random_(-(2**63), None).view(torch.int16)[:count].view(x.shape)
        keep = bits >= round(self.p * 65536) - 32768
        return _ScaleByMask.apply(x, keep.to(x.dtype).mul_(1.0 / (1.0 - self.p)))


class _ScaleByMask(torch.autograd.Function):
    """``x * mask`` that saves only the mask (the gradient is ``grad * mask``)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (mask,) = ctx.saved_tensors
        return grad * mask, None


class SelfAttention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameters (``in_proj_weight``,
    ``in_proj_bias``, ``out_proj``), batch-first, keys masked by padding."""

    def __init__(self, dim: int, num_heads: int, dropout: float):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"d_model {dim} is not divisible by num_heads {num_heads}")
        self.num_heads, self.dropout_p = num_heads, dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        self.attention_dropout = FastDropout(dropout)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """``x`` [B, T, D]; ``padding`` [B, T], True where a frame is padding."""
        batch, frames, dim = x.shape
        heads = self.num_heads
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = qkv.view(batch, frames, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)
        if self.training and self.dropout_p > 0.0:
            scores = (q * (dim // heads) ** -0.5) @ k.transpose(-1, -2)
            scores = scores.masked_fill(padding[:, None, None, :], float("-inf"))
            weights = self.attention_dropout(scores.softmax(-1))
            context = weights @ v
        else:
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=~padding[:, None, None, :])
        return self.out_proj(context.transpose(1, 2).reshape(batch, frames, dim))


class FeedForward(nn.Module):
    """LayerNorm -> Linear -> SiLU -> dropout -> Linear -> dropout (torchaudio's names)."""

    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.sequential = nn.Sequential(
            nn.LayerNorm(dim),
            nn.Linear(dim, hidden),
            nn.SiLU(),
            FastDropout(dropout),
            nn.Linear(hidden, dim),
            FastDropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sequential(x)


class ConvolutionModule(nn.Module):
    """LayerNorm -> pointwise conv -> GLU -> depthwise conv -> BatchNorm -> SiLU -> pointwise
    conv -> dropout, over ``[B, T, D]`` without transposes. The convolutions keep their
    ``nn.Conv1d`` parameters (torchaudio's state dict); padded frames take part, as there."""

    def __init__(self, dim: int, kernel: int, dropout: float):
        super().__init__()
        if kernel % 2 == 0:
            raise ValueError(f"conv_kernel {kernel} must be odd ('same' padding)")
        self.layer_norm = nn.LayerNorm(dim)
        self.sequential = nn.Sequential(
            nn.Conv1d(dim, 2 * dim, 1),
            nn.GLU(dim=1),
            nn.Conv1d(dim, dim, kernel, padding=(kernel - 1) // 2, groups=dim),
            nn.BatchNorm1d(dim),
            nn.SiLU(),
            nn.Conv1d(dim, dim, 1),
            FastDropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expand, _, depthwise, norm, _, project, dropout = self.sequential
        batch, frames, dim = x.shape
        x = F.glu(F.linear(self.layer_norm(x), expand.weight[..., 0], expand.bias), dim=-1)
        channels_last = x.transpose(1, 2).unsqueeze(2)  # [B, D, 1, T] over [B, T, D] memory
        # fp32 even under autocast: oneDNN's bf16 channels-last depthwise kernel never returns
        # for some shapes (B=23, T=84, D=32 on an AMX CPU); fp32 passed 20,640 shapes, as fast
        with torch.autocast(x.device.type, enabled=False):
            x = F.conv2d(
                channels_last.float(),
                depthwise.weight.unsqueeze(2),
                depthwise.bias,
                padding=(0, depthwise.padding[0]),
                groups=dim,
            )
        x = x.squeeze(2).transpose(1, 2)  # [B, T, D] again, still contiguous
        x = F.silu(norm(x.reshape(batch * frames, dim)).view(batch, frames, dim))
        return dropout(F.linear(x, project.weight[..., 0], project.bias))


class ConformerLayer(nn.Module):
    """Half-step feed-forward, self-attention, convolution, half-step feed-forward, LayerNorm."""

    def __init__(self, dim: int, ffn_dim: int, num_heads: int, kernel: int, dropout: float):
        super().__init__()
        self.ffn1 = FeedForward(dim, ffn_dim, dropout)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.self_attn = SelfAttention(dim, num_heads, dropout)
        self.self_attn_dropout = FastDropout(dropout)
        self.conv_module = ConvolutionModule(dim, kernel, dropout)
        self.ffn2 = FeedForward(dim, ffn_dim, dropout)
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        x = x + 0.5 * self.ffn1(x)
        x = x + self.self_attn_dropout(self.self_attn(self.self_attn_layer_norm(x), padding))
        x = x + self.conv_module(x)
        x = x + 0.5 * self.ffn2(x)
        return self.final_layer_norm(x)


class Conformer(nn.Module):
    """``torchaudio.models.Conformer``'s interface and parameters: ``forward(x [B, T, D],
    lengths [B]) -> (y [B, T, D], lengths)``."""

    def __init__(
        self,
        input_dim: int,
        num_heads: int,
        ffn_dim: int,
        num_layers: int,
        depthwise_conv_kernel_size: int,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.conformer_layers = nn.ModuleList(
            ConformerLayer(input_dim, ffn_dim, num_heads, depthwise_conv_kernel_size, dropout)
            for _ in range(num_layers)
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        padding = torch.arange(x.shape[1], device=x.device)[None, :] >= lengths[:, None]
        for layer in self.conformer_layers:
            x = layer(x, padding)
        return x, lengths
