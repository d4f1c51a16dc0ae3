"""Is anyone speaking? An energy and tonality check before decoding (no speech, no words).

A CTC model asked to transcribe ten minutes of silence, a hum or a tune still writes its most
likely letters ("a are eleven ..."). :func:`speech_check` looks at the clip first, in 25 ms frames
every 10 ms:

* **loud frames**: above ``min_dbfs`` and at least ``min_range_db`` above the clip's own floor
  (its 10th-percentile frame): speech rises and falls with syllables; silence stays under the
  floor, steady noise and a held tone stay flat at it;
* **peak share**: in the loud frames, the share of the spectrum's power in its 8 strongest
  bins: pure and musical tones put nearly all of it there, hiss and clicks almost none, speech
  spreads it over harmonics, formants and fricatives (0.35-0.81 on the corpus, clean to 0 dB SNR).

A clip needs ``min_active_seconds`` of loud frames whose median peak share lies between
``min_peak_share`` and ``max_peak_share`` to be decoded; otherwise it gets no words (empty text,
confidence 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asrloop.settings.features import SpeechGateSettings

FRAME_SECONDS, HOP_SECONDS = 0.025, 0.010
FFT_SIZE = 512
PEAK_BINS = 8  # a few notes with their window spread
MAX_SPECTRA = 200  # loud frames examined for tonality (evenly spaced)
FLOOR_PERCENTILE = 10


@dataclass(frozen=True)
class SpeechCheck:
    """What the check measured on one clip, and its verdict."""

    active_seconds: float
    range_db: float
    peak_share: float
    speech: bool


def frame_levels(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(frames [n, frame], level of each in dBFS, full-scale sine = -3 dB)."""
    frame, hop = int(FRAME_SECONDS * rate), int(HOP_SECONDS * rate)
    if len(audio) < frame:
        audio = np.pad(audio, (0, frame - len(audio)))
    count = 1 + (len(audio) - frame) // hop
    frames = np.lib.stride_tricks.sliding_window_view(audio, frame)[::hop][:count]
    power = np.mean(np.square(frames, dtype=np.float64), axis=1)
    return frames, 10 * np.log10(power + 1e-12)


def peak_share(frames: np.ndarray) -> float:
    """Median share of each frame's power in its ``PEAK_BINS`` strongest FFT bins."""
    if not len(frames):
        return 1.0
    step = max(1, len(frames) // MAX_SPECTRA)
    chosen = frames[::step][:MAX_SPECTRA] * np.hanning(frames.shape[1])
    spectra = np.abs(np.fft.rfft(chosen, n=FFT_SIZE, axis=1))[:, 1:] ** 2  # no DC
    total = spectra.sum(axis=1) + 1e-20
    top = np.sort(spectra, axis=1)[:, -PEAK_BINS:].sum(axis=1)
    return float(np.median(top / total))


def speech_check(audio: np.ndarray, rate: int, gate: SpeechGateSettings) -> SpeechCheck:
    """Whether ``audio`` (mono float, ``rate`` Hz) holds speech worth decoding."""
    frames, levels = frame_levels(np.asarray(audio, dtype=np.float32), rate)
    floor = float(np.percentile(levels, FLOOR_PERCENTILE))
    loud = levels > max(float(gate.min_dbfs), floor + float(gate.min_range_db))
    active = float(loud.sum() * HOP_SECONDS)
    spread = float(np.percentile(levels, 95) - floor)
    share = peak_share(frames[loud]) if active else 1.0
    shaped = float(gate.min_peak_share) < share < float(gate.max_peak_share)
    speech = active >= float(gate.min_active_seconds) and shaped
    return SpeechCheck(round(active, 3), round(spread, 2), round(share, 4), speech)
