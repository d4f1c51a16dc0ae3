"""Character edit distances, and the lexicon word nearest a spelling.

The term check (:mod:`asrloop.decode`) compares what the acoustic model spells on its own
(greedy CTC, no lexicon, no LM) with the word the beam search wrote there.
"""

from __future__ import annotations

from collections.abc import Iterable


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insert, delete, substitute: 1 each)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def spelling_distance(spelled: str, word: str) -> float:
    """Edits from what was spelled to ``word``, per letter of ``word``."""
    return edit_distance(spelled, word) / max(1, len(word))


def nearest_word(spelled: str, words: Iterable[str], below: int | None = None) -> str | None:
    """The word of ``words`` fewest edits from ``spelled`` (the shorter length difference, then
    alphabetical, on ties); with ``below``, only a word fewer than that many edits away counts.
    None when no word does."""
    best: tuple[int, int, str] | None = None
    for word in words:
        bound = best[0] if best is not None else below
        if bound is not None and abs(len(word) - len(spelled)) > bound:
            continue  # cannot beat the bound: the length difference alone costs more
        key = (edit_distance(spelled, word), abs(len(word) - len(spelled)), word)
        if (best is None or key < best) and (below is None or key[0] < below):
            best = key
    return None if best is None else best[2]
