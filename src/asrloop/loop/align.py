"""Word alignment where a word split into several, or several merged into one, is ONE error.

jiwer aligns word by word, so a new word the recogniser spells as two known words costs a
substitution plus an insertion. Here the Levenshtein recursion has two extra moves:

* ``split``: one reference word against 2..``max_span`` hypothesis words,
* ``merge``: 2..``max_span`` reference words against one hypothesis word,

each costing one error, and allowed only when the two sides are spelled alike: the character
similarity of their spellings with spaces removed, ``1 - levenshtein(a, b) / max(len(a), len(b))``,
is at least ``similarity`` (0.5 by default; a 6-letter word against an 8-letter split at edit
distance 3 scores 0.625). Ties go to the plain moves: with equal error counts, the alignment
with fewer splits and merges wins, so "cat" -> "cat s" stays an insertion.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from asrloop.text.normalize import words

OPS = ("equal", "substitute", "insert", "delete", "split", "merge")


@dataclass(frozen=True)
class Edit:
    """One alignment step: ``ref`` words become ``hyp`` words (either side may be empty)."""

    op: str
    ref: tuple[str, ...]
    hyp: tuple[str, ...]

    @property
    def is_error(self) -> bool:
        return self.op != "equal"


@lru_cache(maxsize=65536)
def spelled_alike(a: str, b: str, similarity: float) -> bool:
    """Whether two spellings (spaces ignored) have character similarity >= ``similarity``."""
    return Levenshtein.normalized_similarity(a.replace(" ", ""), b.replace(" ", "")) >= similarity


def _as_words(text: str | Sequence[str]) -> list[str]:
    return words(text) if isinstance(text, str) else list(text)


def _moves(ref: list[str], hyp: list[str], i: int, j: int, similarity: float, max_span: int):
    """Candidate moves into cell (i, j): (op, ref words used, hyp words used, errors)."""
    if i and j:
        yield ("equal", 1, 1, 0) if ref[i - 1] == hyp[j - 1] else ("substitute", 1, 1, 1)
    if i:
        yield "delete", 1, 0, 1
    if j:
        yield "insert", 0, 1, 1
    for k in range(2, max_span + 1):
        if i and j >= k and spelled_alike(ref[i - 1], " ".join(hyp[j - k : j]), similarity):
            yield "split", 1, k, 1
        if j and i >= k and spelled_alike(" ".join(ref[i - k : i]), hyp[j - 1], similarity):
            yield "merge", k, 1, 1


def align(
    ref: str | Sequence[str],
    hyp: str | Sequence[str],
    similarity: float = 0.5,
    max_span: int = 3,
) -> list[Edit]:
    """Align hypothesis words against reference words (strings are normalised first)."""
    ref, hyp = _as_words(ref), _as_words(hyp)
    # cost = (errors, splits + merges): fewer errors first, then prefer the plain moves.
    cost: dict[tuple[int, int], tuple[int, int]] = {(0, 0): (0, 0)}
    back: dict[tuple[int, int], tuple[str, int, int]] = {}
    for i in range(len(ref) + 1):
        for j in range(len(hyp) + 1):
            if i == j == 0:
                continue
            best = None
            for op, di, dj, errors in _moves(ref, hyp, i, j, similarity, max_span):
                errs, compound = cost[(i - di, j - dj)]
                candidate = (errs + errors, compound + (op in ("split", "merge")))
                if best is None or candidate < best:
                    best, back[(i, j)] = candidate, (op, di, dj)
            cost[(i, j)] = best
    return _trace(ref, hyp, back)


def _trace(ref: list[str], hyp: list[str], back: dict) -> list[Edit]:
    edits, i, j = [], len(ref), len(hyp)
    while i or j:
        op, di, dj = back[(i, j)]
        edits.append(Edit(op, tuple(ref[i - di : i]), tuple(hyp[j - dj : j])))
        i, j = i - di, j - dj
    return edits[::-1]


def _add_example(examples: dict, key, clip_id: str, max_examples: int) -> None:
    if clip_id not in examples[key] and len(examples[key]) < max_examples:
        examples[key].append(clip_id)


def summarize(
    pairs: Iterable[tuple[str, str | Sequence[str], str | Sequence[str]]],
    max_examples: int = 5,
    similarity: float = 0.5,
    max_span: int = 3,
) -> dict:
    """Aligns ``(clip_id, reference, hypothesis)`` triples and counts the errors (sclite-style).

    Returns ``confusions`` (``{ref, hyp, op, count, examples}``: substitutions, splits and
    merges), ``insertions`` and ``deletions`` (``{word, count, examples}``), each sorted by count,
    and ``counts`` (per op, ``errors``, ``ref_words``, ``hyp_words``, ``clips``, ``error_rate``).
    """
    confusions: Counter = Counter()
    singles = {"insert": Counter(), "delete": Counter()}
    examples: dict = defaultdict(list)
    counts = Counter(dict.fromkeys((*OPS, "ref_words", "hyp_words"), 0))
    clips = 0
    for clip_id, ref, hyp in pairs:
        clips += 1
        for edit in align(ref, hyp, similarity, max_span):
            counts[edit.op] += 1
            counts["ref_words"] += len(edit.ref)
            counts["hyp_words"] += len(edit.hyp)
            if edit.op in singles:
                key = (edit.op, " ".join(edit.ref or edit.hyp))
                singles[edit.op][key[1]] += 1
            elif edit.is_error:
                key = (edit.op, " ".join(edit.ref), " ".join(edit.hyp))
                confusions[key] += 1
            else:
                continue
            _add_example(examples, key, clip_id, max_examples)
    counts["errors"] = sum(counts[op] for op in OPS if op != "equal")
    counts["clips"] = clips
    summary_counts = dict(counts)
    summary_counts["error_rate"] = (
        counts["errors"] / counts["ref_words"] if counts["ref_words"] else 0.0
    )
    return {
        "confusions": _confusion_rows(confusions, examples),
        "insertions": _word_rows("insert", singles["insert"], examples),
        "deletions": _word_rows("delete", singles["delete"], examples),
        "counts": summary_counts,
    }


def _confusion_rows(confusions: Counter, examples: dict) -> list[dict]:
    rows = [
        {"ref": ref, "hyp": hyp, "op": op, "count": n, "examples": examples[(op, ref, hyp)]}
        for (op, ref, hyp), n in confusions.items()
    ]
    return sorted(rows, key=lambda entry: (-entry["count"], entry["ref"], entry["hyp"]))


def _word_rows(op: str, counter: Counter, examples: dict) -> list[dict]:
    rows = [
        {"word": word, "count": n, "examples": examples[(op, word)]} for word, n in counter.items()
    ]
    return sorted(rows, key=lambda entry: (-entry["count"], entry["word"]))
