"""Log-mel filterbank features (torchaudio), SpecAugment masks and gain augmentation."""

from __future__ import annotations

import math

import torch

from asrloop.audio.feature_extraction_asrloop import log_mel, mel_transform
from asrloop.settings.features import FeaturesSettings


class FbankExtractor:
    """80-bin log-mel features, 10 ms hop; returns [frames, n_mels] float32.

    The same computation as the model folder's transformers feature extractor
    (:mod:`asrloop.audio.feature_extraction_asrloop`)."""

    def __init__(
        self, sample_rate: int = 16000, n_mels: int = 80, win_ms: float = 25, hop_ms: float = 10
    ):
        self.sample_rate, self.win_ms, self.hop_ms = sample_rate, win_ms, hop_ms
        self.mel = mel_transform(sample_rate, n_mels, win_ms, hop_ms)
        self.hop = self.mel.hop_length

    @classmethod
    def of(cls, features: FeaturesSettings) -> FbankExtractor:
        """The extractor for ``conf/features``."""
        return cls(
            int(features.sample_rate),
            int(features.n_mels),
            float(features.win_ms),
            float(features.hop_ms),
        )

    def __call__(self, audio) -> torch.Tensor:
        return log_mel(self.mel, audio)

    def settings(self) -> dict[str, float]:
        """The settings as ``conf/features`` names them."""
        return {
            "sample_rate": self.sample_rate,
            "n_mels": self.mel.n_mels,
            "win_ms": self.win_ms,
            "hop_ms": self.hop_ms,
        }

    def num_frames(self, num_samples: int) -> int:
        return num_samples // self.hop + 1


def gain_augment(
    features: torch.Tensor, lengths: torch.Tensor, gain_db: float, generator: torch.Generator
) -> torch.Tensor:
    """Shift each clip's log-mel power by a random gain in [-gain_db, +gain_db] dB (in place).

    A gain g scales mel power by g^2, which adds 2 ln g to every log-mel bin above the floor, so
    this is the waveform augmentation done on cached features. Padding stays zero.
    """
    if gain_db <= 0:
        return features
    shifts = (torch.rand(features.shape[0], generator=generator) * 2 - 1) * gain_db
    for b, shift_db in enumerate(shifts.tolist()):
        features[b, : int(lengths[b])] += shift_db * math.log(10) / 10
    return features


def spec_augment(
    features: torch.Tensor,
    lengths: torch.Tensor,
    freq_masks: int,
    freq_width: int,
    time_masks: int,
    time_width: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Zero random frequency bands and time spans in a padded batch [B, T, F] (in place)."""
    batch, _, n_freq = features.shape
    for b in range(batch):
        length = int(lengths[b])
        for _ in range(freq_masks):
            width = int(torch.randint(0, freq_width + 1, (1,), generator=generator))
            start = int(torch.randint(0, max(1, n_freq - width), (1,), generator=generator))
            features[b, :length, start : start + width] = 0
        max_width = max(1, int(length * time_width))
        for _ in range(time_masks):
            width = int(torch.randint(0, max_width + 1, (1,), generator=generator))
            start = int(torch.randint(0, max(1, length - width), (1,), generator=generator))
            features[b, start : start + width, :] = 0
    return features
