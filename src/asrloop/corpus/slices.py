"""Which slices a clip belongs to: voice family, accent, duration and noise level.

Slices are how a WER is broken down beyond the voice (as NeMo's and ESPnet's scoring report
per-speaker WER): ``family=`` the voice's engine (``espeak``, ``piper``; ``recorded`` for clips
with no synthetic voice), ``accent=`` the voice's language and region (``en-gb-scotland`` for
``en-gb-scotland+klatt4``), ``duration=`` a length bin and ``noise=`` the mixed-in noise
(``clean``, or an SNR bin from the clip's ``snr_db``; ``unknown`` when the manifest does not say).
"""

from __future__ import annotations

from asrloop.corpus.manifest import Utterance
from asrloop.corpus.synthesis import PIPER_PREFIX

DURATION_BINS = ((2.0, "<2s"), (4.0, "2-4s"), (float("inf"), ">=4s"))
SNR_BINS = ((20.0, "snr<20dB"), (float("inf"), "snr>=20dB"))
SNR_FIELD = "snr_db"  # written by synthesis; None or absent in the row: no noise was added


def voice_family(voice: str) -> str:
    if not voice:
        return "recorded"
    return "piper" if voice.startswith(PIPER_PREFIX) else "espeak"


def accent(voice: str) -> str:
    if voice.startswith(PIPER_PREFIX):
        return voice
    return voice.split("+", 1)[0] or "unknown"


def duration_bin(seconds: float) -> str:
    return next(name for edge, name in DURATION_BINS if seconds < edge)


def noise_level(row: Utterance) -> str:
    if SNR_FIELD not in row.extra:
        return "unknown"
    snr = row.extra[SNR_FIELD]
    if snr is None:
        return "clean"
    return next(name for edge, name in SNR_BINS if float(snr) < edge)


def slices_of(row: Utterance) -> list[str]:
    """The clip's slice names, one per dimension (``"accent=en-us"``...)."""
    return [
        f"family={voice_family(row.voice)}",
        f"accent={accent(row.voice)}",
        f"duration={duration_bin(row.duration)}",
        f"noise={noise_level(row)}",
    ]
