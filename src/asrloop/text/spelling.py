"""Character edit distances, and the lexicon word nearest a spelling.

The term check (:mod:`asrloop.decode`) compares what the acoustic model spells on its own
(greedy CTC, no lexicon, no LM) with the word the beam search wrote there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence


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


def nearest_word(
    spelled: Sequence[str],
    words: Iterable[str],
    below: float | None = None,
    distance: Callable[[Sequence[str], Sequence[str]], float] = edit_distance,
    form: Callable[[str], Sequence[str]] = str,
) -> str | None:
    """The word of ``words`` fewest edits from ``spelled`` (the shorter length difference, then
    alphabetical, on ties); with ``below``, only a word fewer than that many edits away counts.
    None when no word does. Words are compared by their letters, or by another ``form`` of
    them (their sounds, :mod:`asrloop.text.sound_check`) with that form's ``distance``, whose
    every insertion and deletion costs 1."""
    best: tuple[float, int, str] | None = None
    for word in words:
        compared = form(word)
        bound = best[0] if best is not None else below
        if bound is not None and abs(len(compared) - len(spelled)) > bound:
            continue  # cannot beat the bound: the length difference alone costs more
        key = (distance(spelled, compared), abs(len(compared) - len(spelled)), word)
        if (best is None or key < best) and (below is None or key[0] < below):
            best = key
    return None if best is None else best[2]
