"""In-process espeak-ng through ctypes, using the library and data bundled by espeakng-loader:
text to phonemes (the look-alike search, the term check's sounds) and to speech.

espeak-ng is GPL-3: it is called, never linked into asrloop's code, and sits behind
:mod:`asrloop.corpus.synthesis` like every other engine.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from functools import cache
from pathlib import Path

import numpy as np

from asrloop.errors import StepFailed

AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_CHARS_UTF8 = 1
PHONEMES_IPA = 2  # espeak_TextToPhonemes' phonememode: IPA, UTF-8
PARAM_RATE, PARAM_PITCH = 1, 3
_CALLS = threading.Lock()  # libespeak-ng keeps global state: one call at a time per process

SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class EspeakError(StepFailed):
    pass


class EspeakEngine:
    """One engine per process (libespeak-ng keeps global state)."""

    def __init__(self) -> None:
        import espeakng_loader

        self.data_path = Path(espeakng_loader.get_data_path())
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        rate = self.lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path.parent).encode(), 0
        )
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({rate})")
        self.sample_rate = rate
        self._chunks: list[np.ndarray] = []
        self._callback = SYNTH_CALLBACK(self._on_audio)
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        self._voice: str | None = None

    def _on_audio(self, wav, count, _events) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def variants(self) -> set[str]:
        return {p.name for p in (self.data_path / "voices" / "!v").iterdir()}

    def set_voice(self, name: str) -> None:
        if name == self._voice:
            return
        language, _, variant = name.partition("+")
        if variant and variant not in self.variants():
            raise EspeakError(f"unknown espeak-ng variant '{variant}' in voice '{name}'")
        if self.lib.espeak_SetVoiceByName(name.encode()) != 0:
            raise EspeakError(f"unknown espeak-ng voice '{language}' in voice '{name}'")
        self._voice = name

    def phonemes(self, text: str, voice: str) -> str:
        """``text`` as espeak-ng pronounces it in ``voice``, in IPA (stress marks kept)."""
        with _CALLS:
            self.set_voice(voice)
            remaining = ctypes.c_char_p(text.encode("utf-8") + b"\0")
            clauses = []
            while remaining.value:  # one clause per call; the pointer moves past it
                out = self.lib.espeak_TextToPhonemes(
                    ctypes.byref(remaining), ESPEAK_CHARS_UTF8, PHONEMES_IPA
                )
                clauses.append((out or b"").decode("utf-8"))
        return " ".join(c for c in clauses if c)

    def synthesize(
        self, text: str, voice: str, rate_wpm: int, pitch: int, seed: int = 0
    ) -> np.ndarray:
        """int16 PCM at :attr:`sample_rate`.

        The Klatt noise source draws from libc's ``rand``: it is seeded per clip. The engine also
        carries state from one utterance to the next, so bit-exact output needs the same
        sequence of clips in a fresh process (see :mod:`asrloop.corpus.shards`).
        """
        with _CALLS:
            _libc().srand(seed & 0x7FFFFFFF)
            self.set_voice(voice)
            self.lib.espeak_SetParameter(PARAM_RATE, int(rate_wpm), 0)
            self.lib.espeak_SetParameter(PARAM_PITCH, int(pitch), 0)
            self._chunks = []
            data = text.encode("utf-8") + b"\0"
            status = self.lib.espeak_Synth(data, len(data), 0, 0, 0, ESPEAK_CHARS_UTF8, None, None)
            if status != 0:
                raise EspeakError(f"espeak_Synth failed ({status}) for {text!r}")
            self.lib.espeak_Synchronize()
            chunks = self._chunks
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(chunks)


@cache
def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def engine() -> EspeakEngine:
    """The process's one engine (made once, under the lock: two threads never make two)."""
    with _CALLS:
        return _engine()


@cache
def _engine() -> EspeakEngine:
    return EspeakEngine()
