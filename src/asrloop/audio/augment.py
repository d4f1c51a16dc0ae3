"""Waveform augmentation: additive noise at a target SNR, gain, speed perturbation."""

from __future__ import annotations

import numpy as np

from asrloop.audio.io import resample


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White-ish (pink-tilted) noise scaled so speech/noise power is ``snr_db``."""
    if audio.size == 0:
        return audio
    white = rng.standard_normal(audio.size).astype(np.float32)
    pink = np.cumsum(white) * 0.02
    pink -= np.convolve(pink, np.ones(64) / 64, mode="same")  # remove drift
    noise = 0.5 * white + pink
    signal_power = float(np.mean(audio**2)) + 1e-12
    noise_power = float(np.mean(noise**2)) + 1e-12
    scale = np.sqrt(signal_power / (noise_power * 10 ** (snr_db / 10)))
    return (audio + scale * noise).astype(np.float32)


def apply_gain(audio: np.ndarray, gain_db: float) -> np.ndarray:
    return (audio * 10 ** (gain_db / 20)).astype(np.float32)


def speed_perturb(audio: np.ndarray, factor: float, rate: int) -> np.ndarray:
    """Play ``factor`` times faster (pitch moves too, as in Kaldi's speed perturbation)."""
    if factor == 1.0:
        return audio
    return resample(audio, round(rate * factor), rate)


def normalize_peak(audio: np.ndarray, peak: float = 0.9) -> np.ndarray:
    top = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if top == 0 else (audio * (peak / top)).astype(np.float32)
