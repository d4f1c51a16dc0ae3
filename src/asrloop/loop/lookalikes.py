"""Look-alikes of a new word, and the contrast shard that says them beside it.

A fine-tune on a new word drifts the acoustics of the words that sound like it, and the
lexicon and LM then write the new word there (a known word containing its sounds becomes the
term: measured on the shipped scenarios with rare words, where it cost the term its precision).
The look-alikes come from espeak-ng's phonemes of the corpus words
(:func:`asrloop.text.sounds.contains_sounds`). **Contrast** (``grow.contrast``): ``asrloop
grow`` renders, for each word of a term the base corpus never says, base training sentences
that say its closest look-alikes, in training voices other than the sentence's own. They enter
the grown corpus as the ``<drop>-contrast`` shard and are repeated like the drop's clips, so the
fine-tune hears both side by side. :mod:`asrloop.loop.lookalike_probe` decodes look-alikes
after the fine-tune.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Protocol

from asrloop.corpus.manifest import Utterance
from asrloop.corpus.plan import ClipPlan, ShardPlan, plan_renditions
from asrloop.settings.grow import GrowSynthesisSettings
from asrloop.text.sounds import contains_sounds, phoneme_units

CONTRAST_SHARD_SUFFIX = "-contrast"  # data/corpus/grown/<drop>-contrast

Phonemizer = Callable[[str], tuple[str, ...]]


class LookalikeSearch(Protocol):
    """How many rows, of how many look-alikes, how alike (grow.contrast, grow.probe)."""

    clips: int
    words: int
    min_similarity: float


@dataclass(frozen=True)
class Lookalike:
    word: str  # a corpus word
    sounds_like: str  # the new word whose sounds it contains
    similarity: float  # asrloop.text.sounds.contains_sounds


def lookalikes(
    new_word: str,
    corpus_words: Counter[str],
    phonemize: Phonemizer,
    min_similarity: float,
    count: int,
) -> list[Lookalike]:
    """The ``count`` corpus words that sound most like ``new_word`` (at least
    ``min_similarity``): closest first, then nearest in length, then most frequent, then by
    spelling (a stable order)."""
    term = phonemize(new_word)
    scored = []
    for word, frequency in corpus_words.items():
        if word == new_word:
            continue
        units = phonemize(word)
        similarity = contains_sounds(term, units)
        if similarity >= min_similarity:
            scored.append((-similarity, abs(len(units) - len(term)), -frequency, word, similarity))
    scored.sort()
    return [Lookalike(word, new_word, round(s, 3)) for *_, word, s in scored[:count]]


def contrast_rows(
    rows: Sequence[Utterance], found: Sequence[Lookalike], clips: int, seed: str
) -> list[tuple[Utterance, Lookalike]]:
    """Up to ``clips`` rows that say the look-alikes, taken in turn (one per look-alike, then
    again), each row once; a seeded pick among the rows that say a word."""
    rng = random.Random(seed)
    saying = {}
    for lookalike in found:
        candidates = [r for r in rows if lookalike.word in (r.text or "").split()]
        rng.shuffle(candidates)
        saying[lookalike] = candidates
    chosen: list[tuple[Utterance, Lookalike]] = []
    taken: set[str] = set()
    while len(chosen) < clips and any(saying.values()):
        for lookalike in found:
            while saying[lookalike] and saying[lookalike][-1].id in taken:
                saying[lookalike].pop()
            if saying[lookalike] and len(chosen) < clips:
                row = saying[lookalike].pop()
                taken.add(row.id)
                chosen.append((row, lookalike))
    return chosen


def plan_in_other_voices(
    name: str, source: str, rows: Sequence[Utterance], voicing: GrowSynthesisSettings
) -> ShardPlan:
    """One rendition of each row's sentence, by a training voice other than the row's own
    (the same sentence in the same voice would repeat a corpus clip)."""
    clips: list[ClipPlan] = []
    for row in rows:
        others = [v for v in voicing.voices if v != row.voice] or list(voicing.voices)
        own = replace(voicing, voices=others)
        clips += plan_renditions(name, [(f"{name}-{row.id}", row.text or "")], 1, own, source).clips
    return ShardPlan(name, tuple(clips))


def espeak_phonemizer(voices: Sequence[str], fallback: str) -> Phonemizer:
    """Sound units of a word as espeak-ng says it in the language of the first espeak voice
    of ``voices`` (``fallback``, e.g. the corpus language, when none is an espeak voice)."""
    from asrloop.text.espeak import engine

    espeak = [v for v in voices if ":" not in v]
    language = espeak[0].partition("+")[0] if espeak else fallback

    @cache
    def phonemize(word: str) -> tuple[str, ...]:
        return phoneme_units(engine().phonemes(word, language))

    return phonemize


def unknown_words(terms: Sequence[str], corpus_words: Collection[str]) -> list[str]:
    """The words of ``terms`` the base corpus never says, in term order, once each."""
    seen: dict[str, None] = {}
    for term in terms:
        for word in term.split():
            if word not in corpus_words:
                seen.setdefault(word)
    return list(seen)


def find_contrast(
    terms: Sequence[str],
    rows: Sequence[Utterance],
    phonemize: Phonemizer,
    settings: LookalikeSearch,
    seed: str,
    exclude: Collection[str] = (),
) -> list[tuple[Utterance, Lookalike]]:
    """For each word of the terms the base ``rows`` never say, ``settings.clips`` of the rows
    (none of ``exclude``) saying its look-alikes."""
    corpus_words = Counter(w for r in rows for w in (r.text or "").split())
    chosen: list[tuple[Utterance, Lookalike]] = []
    taken: set[str] = set(exclude)
    for word in unknown_words(terms, corpus_words):
        found = lookalikes(word, corpus_words, phonemize, settings.min_similarity, settings.words)
        rest = [r for r in rows if r.id not in taken]
        picked = contrast_rows(rest, found, settings.clips, f"{seed}-{word}")
        taken.update(row.id for row, _ in picked)
        chosen += picked
    return chosen
