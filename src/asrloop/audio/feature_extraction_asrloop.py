"""asrloop's log-mel features as a transformers feature extractor, for the saved model folder.

Self-contained on purpose (torch, torchaudio, numpy and transformers only): ``save_pretrained``
copies this file beside ``preprocessor_config.json``, so ``AutoFeatureExtractor`` and
``pipeline("automatic-speech-recognition")`` load it with ``trust_remote_code`` where asrloop is
not installed. :class:`asrloop.audio.features.FbankExtractor` computes through the same two
functions, so both give the same numbers.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio
from transformers import BatchFeature, SequenceFeatureExtractor

N_FFT = 512
LOG_FLOOR = 1e-6


def mel_transform(
    sample_rate: int, n_mels: int, win_ms: float, hop_ms: float
) -> torchaudio.transforms.MelSpectrogram:
    """The power mel spectrogram behind the features (window ``win_ms``, hop ``hop_ms``)."""
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate,
        n_fft=N_FFT,
        win_length=int(sample_rate * win_ms / 1000),
        hop_length=int(sample_rate * hop_ms / 1000),
        n_mels=n_mels,
        power=2.0,
        center=True,
    )


@torch.no_grad()
def log_mel(mel: torchaudio.transforms.MelSpectrogram, audio) -> torch.Tensor:
    """[frames, n_mels] float32 log-mel features of mono audio; no frames when shorter than a
    hop."""
    wave = torch.as_tensor(np.asarray(audio, dtype=np.float32))
    if wave.numel() < mel.hop_length:
        return torch.zeros(0, mel.n_mels)
    return torch.log(mel(wave) + LOG_FLOOR).T.contiguous()


class AsrloopFbankFeatureExtractor(SequenceFeatureExtractor):
    """16 kHz mono audio -> padded ``input_features`` [B, T, n_mels] and ``attention_mask``."""

    model_input_names = ["input_features", "attention_mask"]  # noqa: RUF012 (transformers API)

    def __init__(
        self,
        feature_size: int = 80,
        sampling_rate: int = 16000,
        padding_value: float = 0.0,
        win_ms: float = 25.0,
        hop_ms: float = 10.0,
        return_attention_mask: bool = True,
        **kwargs,
    ):
        super().__init__(
            feature_size=feature_size,
            sampling_rate=sampling_rate,
            padding_value=padding_value,
            return_attention_mask=return_attention_mask,
            **kwargs,
        )
        self.win_ms, self.hop_ms = float(win_ms), float(hop_ms)

    def __call__(
        self,
        raw_speech,
        sampling_rate: int | None = None,
        padding="longest",
        return_tensors=None,
        return_attention_mask: bool = True,
        **kwargs,
    ) -> BatchFeature:
        if sampling_rate is not None and sampling_rate != self.sampling_rate:
            raise ValueError(f"expected {self.sampling_rate} Hz audio, got {sampling_rate} Hz")
        batched = (isinstance(raw_speech, np.ndarray) and raw_speech.ndim > 1) or (
            isinstance(raw_speech, list | tuple)
            and len(raw_speech) > 0
            and isinstance(raw_speech[0], np.ndarray | list | tuple)
        )
        waves = list(raw_speech) if batched else [raw_speech]
        # built per call, not stored: to_dict() and save_pretrained need plain attributes
        mel = mel_transform(self.sampling_rate, self.feature_size, self.win_ms, self.hop_ms)
        features = [log_mel(mel, wave).numpy() for wave in waves]
        padded = self.pad(
            BatchFeature({"input_features": features}),
            padding=padding,
            return_attention_mask=return_attention_mask,
        )
        return padded.convert_to_tensors(return_tensors) if return_tensors else padded
