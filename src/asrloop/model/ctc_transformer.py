"""A compact CTC encoder over fbank features, as a transformers model.

Conv1d subsampling (4x in time) -> sinusoidal positions -> Transformer or Conformer encoder ->
linear CTC head.
``save_pretrained`` / ``from_pretrained`` round-trip; registered with the Auto classes, and for
remote code: ``save_pretrained`` copies this file into the folder and writes an ``auto_map``, so
``AutoModelForCTC.from_pretrained(folder, trust_remote_code=True)`` works without asrloop. That is
why asrloop is imported only inside ``try``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForCTC, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutput

from .conformer import Conformer, FastDropout

try:
    from asrloop.errors import ConfigError
except ImportError:  # loaded as remote code from a model folder, asrloop not installed
    ConfigError = ValueError


class CtcTransformerConfig(PretrainedConfig):
    model_type = "asrloop_ctc_transformer"

    def __init__(
        self,
        vocab_size: int = 32,
        n_mels: int = 80,
        d_model: int = 144,
        num_layers: int = 4,
        num_heads: int = 4,
        ff_dim: int = 576,
        dropout: float = 0.1,
        subsampling: int = 4,
        blank_id: int = 0,
        encoder: str = "transformer",
        conv_kernel: int = 15,
        feature_mean: list | None = None,
        feature_std: list | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size, self.n_mels, self.d_model = vocab_size, n_mels, d_model
        self.num_layers, self.num_heads, self.ff_dim = num_layers, num_heads, ff_dim
        self.dropout, self.subsampling, self.blank_id = dropout, subsampling, blank_id
        self.encoder, self.conv_kernel = encoder, conv_kernel
        self.feature_mean, self.feature_std = feature_mean, feature_std


class Conv1dSubsampling(nn.Module):
    """Two stride-2 convolutions over time (mel bins as channels): 4x fewer frames."""

    def __init__(self, n_mels: int, d_model: int, factor: int):
        super().__init__()
        layers, channels = [], n_mels
        for _ in range(int(math.log2(factor))):
            layers += [nn.Conv1d(channels, d_model, 3, stride=2, padding=1), nn.GELU()]
            channels = d_model
        self.layers = nn.Sequential(*layers)
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, F] -> [B, T/4, D]
        return self.layers(x.transpose(1, 2)).transpose(1, 2)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        for _ in range(int(math.log2(self.factor))):
            lengths = torch.div(lengths - 1, 2, rounding_mode="floor") + 1
        return lengths


def sinusoids(length: int, dim: int) -> torch.Tensor:
    position = torch.arange(length).unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2], table[:, 1::2] = torch.sin(position * div), torch.cos(position * div)
    return table


def build_encoder(config: CtcTransformerConfig) -> nn.Module:
    """A pre-norm Transformer encoder, or a Conformer with depthwise convolutions (torchaudio's
    parameters, laid out for speed: ``conformer.py``)."""
    if config.encoder == "conformer":
        return Conformer(
            input_dim=config.d_model,
            num_heads=config.num_heads,
            ffn_dim=config.ff_dim,
            num_layers=config.num_layers,
            depthwise_conv_kernel_size=config.conv_kernel,
            dropout=config.dropout,
        )
    if config.encoder != "transformer":
        raise ConfigError(f"model.config.encoder: unknown encoder '{config.encoder}'")
    layer = nn.TransformerEncoderLayer(
        config.d_model,
        config.num_heads,
        config.ff_dim,
        config.dropout,
        activation="gelu",
        batch_first=True,
        norm_first=True,
    )
    return nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)


class CtcTransformerForCTC(PreTrainedModel):
    config_class = CtcTransformerConfig
    main_input_name = "input_features"

    def __init__(self, config: CtcTransformerConfig):
        super().__init__(config)
        mean = torch.tensor(config.feature_mean or [0.0] * config.n_mels)
        std = torch.tensor(config.feature_std or [1.0] * config.n_mels)
        self.register_buffer("feature_mean", mean)  # persistent: from_pretrained restores it
        self.register_buffer("feature_std", std)
        self.subsample = Conv1dSubsampling(config.n_mels, config.d_model, config.subsampling)
        self.input_norm = nn.LayerNorm(config.d_model)
        self.encoder = build_encoder(config)
        self.norm = nn.LayerNorm(config.d_model)
        self.dropout = FastDropout(config.dropout)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size)
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, nn.Linear | nn.Conv1d):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return self.subsample.output_lengths(lengths)

    def forward(
        self,
        input_features: torch.Tensor,
        feature_lengths: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        label_lengths: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        **_,
    ) -> CausalLMOutput:
        """Logits [B, T/4, vocab]. Valid frames come from ``feature_lengths`` (asrloop's calls)
        or from a feature extractor's ``attention_mask`` [B, T] (transformers' pipeline); with a
        mask, padded output frames are set to a certain blank, so a batch argmax equals each
        clip's own."""
        batch, frames, _ = input_features.shape
        from_mask = feature_lengths is None and attention_mask is not None
        if from_mask:
            feature_lengths = attention_mask.sum(-1).long()
        if feature_lengths is None:
            feature_lengths = torch.full(
                (batch,), frames, dtype=torch.long, device=input_features.device
            )
        x = (input_features - self.feature_mean) / self.feature_std
        x = self.subsample(x)
        lengths = self.output_lengths(feature_lengths).clamp(max=x.shape[1])
        x = self.input_norm(x) + sinusoids(x.shape[1], x.shape[2]).to(x)
        x = self.dropout(x)
        if self.config.encoder == "conformer":
            x, _ = self.encoder(x, lengths.clamp(min=1))
        else:
            pad_mask = torch.arange(x.shape[1], device=x.device)[None, :] >= lengths[:, None]
            x = self.encoder(x, src_key_padding_mask=pad_mask)
        logits = self.lm_head(self.norm(x))
        if from_mask:
            logits = self._blank_padding(logits, lengths)
        loss = None
        if labels is not None:
            log_probs = logits.log_softmax(-1).transpose(0, 1)
            loss = nn.functional.ctc_loss(
                log_probs,
                labels,
                lengths,
                label_lengths,
                blank=self.config.blank_id,
                reduction="mean",
                zero_infinity=True,
            )
        return CausalLMOutput(loss=loss, logits=logits)

    def freeze_feature_encoder(self) -> None:
        """Keep the convolutional front end (the subsampling) fixed, as wav2vec2-style models
        keep their feature encoder when fine-tuned (``model.freeze_feature_encoder``)."""
        for parameter in self.subsample.parameters():
            parameter.requires_grad = False

    def _blank_padding(self, logits: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        padded = torch.arange(logits.shape[1], device=logits.device)[None, :] >= lengths[:, None]
        blank = torch.full_like(logits, -1e4)
        blank[..., self.config.blank_id] = 0.0
        return torch.where(padded[..., None], blank, logits)

    def resize_vocab(self, new_size: int) -> None:
        """Grow the CTC head for new symbols, keeping every trained row."""
        old = self.lm_head
        if new_size == old.out_features:
            return
        head = nn.Linear(old.in_features, new_size)
        nn.init.xavier_uniform_(head.weight)
        nn.init.zeros_(head.bias)
        with torch.no_grad():
            keep = min(new_size, old.out_features)
            head.weight[:keep] = old.weight[:keep]
            head.bias[:keep] = old.bias[:keep]
            head.bias[keep:] = old.bias.min()
        self.lm_head = head
        self.config.vocab_size = new_size


AutoConfig.register(CtcTransformerConfig.model_type, CtcTransformerConfig, exist_ok=True)
AutoModelForCTC.register(CtcTransformerConfig, CtcTransformerForCTC, exist_ok=True)
# save_pretrained then copies this file and writes config.json's auto_map (remote code)
CtcTransformerConfig.register_for_auto_class()
CtcTransformerForCTC.register_for_auto_class("AutoModelForCTC")
