"""Decode one source clip (a file segment or a shell command's output) and bring it to the
project's format once: 16 kHz mono float32. Runs in worker processes: no torch, no lhotse."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from asrloop.audio.io import SAMPLE_RATE, AudioError, resample
from asrloop.corpus.importer.clip import COMMAND, SourceClip

SHORT_TOLERANCE = 0.01  # seconds a segment may fall short of its stated duration


@dataclass(frozen=True)
class Converted:
    audio: np.ndarray  # 16 kHz mono float32
    rate: int  # the source's sample rate
    channels: int  # the source's channel count


def _command_bytes(command: str) -> io.BytesIO:
    result = subprocess.run(command, shell=True, capture_output=True, check=False)
    if result.returncode != 0:
        tail = result.stderr.decode(errors="replace").strip()[-300:]
        raise AudioError(f"command {command!r} failed (exit {result.returncode}): {tail}")
    return io.BytesIO(result.stdout)


def decode(clip: SourceClip) -> tuple[np.ndarray, int]:
    """(frames x channels float32, sample rate) of the clip's segment, at the source's rate."""
    target = _command_bytes(clip.audio) if clip.kind == COMMAND else clip.audio
    try:
        with sf.SoundFile(target) as handle:
            rate = handle.samplerate
            start = round(clip.offset * rate)
            if start > handle.frames:
                raise AudioError(f"{clip.audio}: offset {clip.offset} s is past the end")
            handle.seek(start)
            wanted = -1 if clip.duration is None else round(clip.duration * rate)
            audio = handle.read(wanted, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioError(f"{clip.audio}: cannot decode audio ({error})") from error
    if clip.duration is not None and len(audio) < wanted - SHORT_TOLERANCE * rate:
        raise AudioError(
            f"{clip.audio}: the file ends {len(audio) / rate:.2f} s after offset {clip.offset}, "
            f"before the segment's {clip.duration:.2f} s"
        )
    return audio, rate


def convert(clip: SourceClip) -> Converted:
    """Decode, pick the channel or mix down, resample to 16 kHz."""
    audio, rate = decode(clip)
    channels = audio.shape[1]
    if clip.channel is not None:
        if clip.channel >= channels:
            raise AudioError(f"{clip.audio}: no channel {clip.channel} ({channels} channels)")
        mono = audio[:, clip.channel]
    else:
        mono = audio.mean(axis=1)
    if len(mono) == 0:
        raise AudioError(f"{clip.audio}: no samples in the segment")
    return Converted(resample(mono, rate, SAMPLE_RATE), rate, channels)
