"""The second decoding path: where the acoustics alone disagree with the lexicon and LM.

A new word that sounds like a known one (a new name heard as an everyday word) makes no
out-of-vocabulary spike: the lexicon decoder writes the known word, confidently. The greedy path
has no word list, so it spells what it hears. Aligning the two per clip (splits and merges as
one edit, :mod:`asrloop.loop.align`) and counting the phrases the lexicon path writes where the
greedy path heard something spelled differently finds such words: a phrase that is disagreed on
in a good share of its occurrences is flagged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from rapidfuzz.distance import Levenshtein

from asrloop.inference.transcript import Transcript
from asrloop.loop.align import align
from asrloop.records import Disagreement
from asrloop.text.normalize import words


def disagreements(
    transcripts: Iterable[Transcript], max_similarity: float, min_count: int, min_rate: float
) -> list[Disagreement]:
    """Phrases the two paths disagree on (spellings less alike than ``max_similarity``), at
    least ``min_count`` times and in at least ``min_rate`` of their occurrences; most first."""
    counts: Counter = Counter()
    heard: dict[str, Counter] = defaultdict(Counter)
    texts = []
    for transcript in transcripts:
        if transcript.transcription.greedy is None:
            continue
        lexicon = words(transcript.text)
        texts.append(lexicon)
        for edit in align(lexicon, words(transcript.transcription.greedy)):
            if not edit.is_error or not edit.ref:
                continue
            phrase, spelled = " ".join(edit.ref), " ".join(edit.hyp)
            similarity = Levenshtein.normalized_similarity(
                phrase.replace(" ", ""), spelled.replace(" ", "")
            )
            if similarity < max_similarity:
                counts[phrase] += 1
                heard[phrase][spelled] += 1
    found = []
    for phrase, count in counts.items():
        seen = max(_occurrences(texts, phrase.split()), count)
        rate = count / seen
        if count >= min_count and rate >= min_rate:
            found.append(
                Disagreement(phrase, heard[phrase].most_common(1)[0][0], count, seen, rate)
            )
    return sorted(found, key=lambda d: (-d.count * d.rate, d.phrase))


def _occurrences(texts: list[list[str]], phrase: list[str]) -> int:
    n = len(phrase)
    return sum(text[i : i + n] == phrase for text in texts for i in range(len(text) - n + 1))
