"""Which slices a clip belongs to: voice, voice family, accent, duration and noise level.

Slices are how a WER is broken down beyond the whole set (as NeMo's and ESPnet's scoring report
per-speaker WER): ``voice=`` the voice (or speaker), ``family=`` the voice's engine (``espeak``,
``piper``; ``recorded`` for imported clips and clips with no voice), ``accent=`` the voice's
language and region (``en-gb-scotland`` for ``en-gb-scotland+klatt4``), ``duration=`` a length
bin and ``noise=`` the mixed-in noise (``clean``, or an SNR bin from the clip's ``snr_db``;
``unknown`` when the manifest does not say).
"""

from __future__ import annotations

from asrloop.corpus.manifest import Utterance
from asrloop.corpus.synthesis import PIPER_PREFIX

DURATION_BINS = ((2.0, "<2s"), (4.0, "2-4s"), (float("inf"), ">=4s"))
SNR_BINS = ((20.0, "snr<20dB"), (float("inf"), "snr>=20dB"))
SNR_FIELD = "snr_db"  # written by synthesis; None or absent in the row: no noise was added


IMPORTED_PREFIX = "import/"  # the source of rows `asrloop corpus import` wrote


def voice_family(row: Utterance) -> str:
    if not row.voice or row.source.startswith(IMPORTED_PREFIX):
        return "recorded"
    return "piper" if row.voice.startswith(PIPER_PREFIX) else "espeak"


def accent(row: Utterance) -> str:
    family = voice_family(row)
    if family == "recorded":
        return family
    if family == "piper":
        return row.voice
    return row.voice.split("+", 1)[0] or "unknown"


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
        f"family={voice_family(row)}",
        f"accent={accent(row)}",
        f"voice={row.voice or 'unknown'}",
        f"duration={duration_bin(row.duration)}",
        f"noise={noise_level(row)}",
    ]
