"""WAV input and output (soundfile), resampling (scipy) and mono mixing."""

from __future__ import annotations

import io
import os
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from asrloop.errors import DataError

SAMPLE_RATE = 16_000
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus")  # what soundfile (libsndfile) decodes


class AudioError(DataError):
    """An unreadable, empty or malformed clip; the message names the file."""


def resample(audio: np.ndarray, source_rate: int, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling (scipy): exact rational ratio, deterministic, no torch import, so
    synthesis workers start fast."""
    if source_rate == target_rate:
        return audio.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    common = gcd(int(source_rate), int(target_rate))
    out = resample_poly(
        np.asarray(audio, dtype=np.float32), target_rate // common, source_rate // common
    )
    return out.astype(np.float32, copy=False)


def to_float(pcm: np.ndarray) -> np.ndarray:
    if pcm.dtype == np.int16:
        return pcm.astype(np.float32) / 32768.0
    return pcm.astype(np.float32, copy=False)


def read_pcm(
    path: str | Path, dtype: str, segment: tuple[float, float | None] = (0.0, None)
) -> tuple[np.ndarray, int]:
    """(frames x channels, rate): the whole file, or ``segment`` = (offset, duration) seconds."""
    offset, duration = segment
    try:
        with sf.SoundFile(str(path)) as handle:
            rate = handle.samplerate
            if offset:
                handle.seek(min(round(offset * rate), handle.frames))
            frames = -1 if duration is None else round(duration * rate)
            return handle.read(frames, dtype=dtype, always_2d=True), rate
    except Exception as error:  # soundfile raises several types for broken files
        raise AudioError(f"{path}: cannot decode audio ({error})") from error


def read_audio(
    path: str | Path,
    target_rate: int | None = SAMPLE_RATE,
    segment: tuple[float, float | None] = (0.0, None),
) -> tuple[np.ndarray, int]:
    """Float32 mono audio of the file or of ``segment`` (a row's ``Utterance.segment``);
    resampled to ``target_rate`` unless it is None."""
    return _mono(*read_pcm(path, "float32", segment), target_rate)


def decode_audio(
    data: bytes, label: str, target_rate: int | None = SAMPLE_RATE
) -> tuple[np.ndarray, int]:
    """Like :func:`read_audio`, for the bytes of an audio file (WAV, FLAC, OGG); ``label``
    names the clip in errors."""
    try:
        audio, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises several types for broken files
        raise AudioError(f"{label}: cannot decode audio ({error})") from error
    return _mono(audio, rate, target_rate)


def _mono(audio: np.ndarray, rate: int, target_rate: int | None) -> tuple[np.ndarray, int]:
    audio = audio.mean(axis=1)
    if target_rate is not None and rate != target_rate:
        audio, rate = resample(audio, rate, target_rate), target_rate
    return audio, rate


def encode_wav(audio: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV file bytes (a request body's audio, an input example)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio, -1.0, 1.0), rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def write_audio(path: str | Path, audio: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """16-bit PCM WAV, written atomically so an interrupted write leaves no half file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    clipped = np.clip(audio, -1.0, 1.0)
    sf.write(str(tmp), clipped, rate, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)


def audio_info(path: str | Path) -> tuple[int, int, int]:
    """(sample rate, channels, frames) without decoding the samples."""
    try:
        info = sf.info(str(path))
    except Exception as error:
        raise AudioError(f"{path}: cannot read header ({error})") from error
    return info.samplerate, info.channels, info.frames


def compressed_audio(path: str | Path) -> bytes:
    """The clip as Ogg Vorbis bytes (about a fifth of 16-bit WAV), for reports that embed audio."""
    import io

    audio, rate = read_audio(path, target_rate=None)
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(audio, -1.0, 1.0), rate, format="OGG", subtype="VORBIS")
    return buffer.getvalue()
