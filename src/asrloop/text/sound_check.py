"""The term check's second chance by sound: a spelling that says the term's sounds.

Before a new word is firmly learned, the acoustic model often spells it as it sounds ("kwire"
for a term written "choir"): the letters are four edits away, the sounds none. :class:`SoundCheck`
compares espeak-ng's phonemes of what the acoustic model spelled with the term's
(:func:`asrloop.text.sounds.sound_distance`: a substitution within a sound class costs half) and
supports the term where they are within ``max_distance`` sound edits per unit of the term and
no other lexicon word sounds nearer.
"""

from __future__ import annotations

from collections.abc import Iterable

from asrloop.errors import ConfigError
from asrloop.text.sounds import phoneme_units, sound_distance, sound_edits
from asrloop.text.spelling import nearest_word

Units = tuple[str, ...]


class SoundCheck:
    """Whether a spelling sounds like a term's word, in ``language`` (an espeak-ng voice)."""

    def __init__(self, language: str, max_distance: float):
        from asrloop.text.espeak import EspeakError, engine

        self.language = language
        self.max_distance = float(max_distance)
        self._engine = engine
        self._units: dict[str, Units] = {}
        try:
            self.units("a")
        except EspeakError as error:
            raise ConfigError(
                f"decode.term_check.language {language!r} is not an espeak-ng voice "
                f"({error}); set it to one, or decode.term_check.max_sound_distance=0 (off)"
            ) from error

    def units(self, text: str) -> Units:
        """``text``'s sound units as espeak-ng says it (cached)."""
        found = self._units.get(text)
        if found is None:
            ipa = self._engine().phonemes(text, self.language)
            found = self._units[text] = phoneme_units(ipa)
        return found

    def supports(self, spelled: str, word: str, others: Iterable[str] | None = None) -> bool:
        """Whether ``spelled`` sounds like ``word`` within the distance and (with ``others``,
        the other lexicon words) no word of ``others`` sounds strictly nearer it."""
        said, target = self.units(spelled), self.units(word)
        if not said or not target:
            return False
        distance = sound_distance(said, target)
        if distance > self.max_distance:
            return False
        if others is None:
            return True
        # only a word strictly nearer than the term rejects it (the letter rule, in sounds)
        below = sound_edits(said, target)
        return nearest_word(said, others, below, distance=sound_edits, form=self.units) is None
