"""How much a word sounds like a term: phoneme strings (IPA) compared by a weighted alignment.

A new word the model has just learned is written where something that sounds like it was said
(a word that contains its sounds, or a part of one). To teach the difference, the loop looks
for the corpus words that contain the term's sounds. :func:`contains_sounds` aligns the term's
whole phoneme sequence against the best-matching stretch of a word's (free start and end in the
word), with substitutions inside a sound class (two vowels, two stops, two fricatives...) costing
half, and returns ``1 - cost / len(term)``: 1.0 when the word says the term's sounds exactly.
:func:`sound_distance` aligns two whole sequences the same way (the term check's second chance:
does what the acoustic model spelled say the term's sounds?).
"""

from __future__ import annotations

from collections.abc import Sequence

STRESS = "ˈˌ"
LENGTH = "ːˑ"
TWO_LETTER_UNITS = ("oʊ", "eɪ", "aɪ", "aʊ", "ɔɪ", "ɪə", "eə", "ʊə", "tʃ", "dʒ", "ɜː")
VOWELS = set("aeiouæɑɒɔəɛɜɪʊʌɐɚɝy")
CLASSES = {
    "stop": set("pbtdkgʔɾ"),
    "fricative": set("fvθðszʃʒhx"),
    "affricate": {"tʃ", "dʒ"},
    "nasal": set("mnŋ"),
    "liquid": set("lrɹɫɬ"),
    "glide": set("wj"),
}
NEAR = 0.5  # the cost of a substitution within a sound class


def phoneme_units(ipa: str) -> tuple[str, ...]:
    """IPA text as sound units: stress marks and spaces dropped, length marks and the common
    diphthongs and affricates kept with their letter (``"vˈoʊl"`` -> ``("v", "oʊ", "l")``)."""
    text = "".join(c for c in ipa if c not in STRESS and not c.isspace())
    units: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in TWO_LETTER_UNITS:
            units.append(pair)
            i += 2
        elif text[i] in LENGTH and units:
            units[-1] += text[i]
            i += 1
        else:
            units.append(text[i])
            i += 1
    return tuple(units)


def sound_class(unit: str) -> str:
    base = unit.rstrip(LENGTH)
    if base and base[0] in VOWELS:
        return "vowel"
    for name, members in CLASSES.items():
        if base in members:
            return name
    return base


def substitution_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return NEAR if sound_class(a) == sound_class(b) else 1.0


def contains_sounds(term: Sequence[str], word: Sequence[str]) -> float:
    """How closely some stretch of ``word`` says all of ``term`` (sound units): 1 - the least
    alignment cost over ``len(term)``, floored at 0. Deleting or inserting a unit costs 1."""
    if not term:
        return 0.0
    return max(0.0, 1.0 - min(_alignment_costs(term, word, free_ends=True)) / len(term))


def sound_edits(said: Sequence[str], word: Sequence[str]) -> float:
    """Sound edits from ``said`` to all of ``word`` (sound units): 0 when they sound the same;
    a substitution within a sound class costs half, any other edit 1."""
    return _alignment_costs(word, said, free_ends=False)[-1]


def sound_distance(said: Sequence[str], word: Sequence[str]) -> float:
    """:func:`sound_edits` per unit of ``word``."""
    return sound_edits(said, word) / max(1, len(word))


def _alignment_costs(term: Sequence[str], word: Sequence[str], free_ends: bool) -> list[float]:
    """The least cost of aligning all of ``term`` with ``word``'s first j units, for each j;
    with ``free_ends``, ``word`` may start anywhere (its end: the caller's minimum)."""
    # cost[j]: the best alignment of the term's first i units ending at word position j
    previous = [0.0 if free_ends else float(j) for j in range(len(word) + 1)]
    for i, unit in enumerate(term, start=1):
        current = [float(i)] + [0.0] * len(word)
        for j, other in enumerate(word, start=1):
            current[j] = min(
                previous[j - 1] + substitution_cost(unit, other),
                previous[j] + 1.0,  # the term's unit not said
                current[j - 1] + 1.0,  # a sound in the word the term lacks
            )
        previous = current
    return previous
