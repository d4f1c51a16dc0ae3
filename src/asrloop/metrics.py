"""Corpus-level error rates and per-term recall/precision, on normalised text.

Every function normalises with :func:`asrloop.text.normalize.normalize_text` unless told not to,
so "Prime Minister," and "prime minister" agree. Empty references and hypotheses are fine: an
empty reference against a non-empty hypothesis counts its words as insertions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import jiwer

from asrloop.records import GroupScores, TermScores
from asrloop.text.normalize import normalize_text

Texts = str | Sequence[str]


def _texts(refs: Texts, hyps: Texts, normalize: bool) -> tuple[list[str], list[str]]:
    refs = [refs] if isinstance(refs, str) else list(refs)
    hyps = [hyps] if isinstance(hyps, str) else list(hyps)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if normalize:
        return [normalize_text(r) for r in refs], [normalize_text(h) for h in hyps]
    return [" ".join(r.split()) for r in refs], [" ".join(h.split()) for h in hyps]


def _rate(errors: int, total: int) -> float:
    """errors / total; with nothing to recognise, 0.0 when nothing was said else 1.0."""
    if total == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / total


def error_counts(refs: Texts, hyps: Texts, normalize: bool = True) -> dict[str, int]:
    """Word hits, substitutions, deletions, insertions, errors and reference length."""
    refs, hyps = _texts(refs, hyps, normalize)
    out = jiwer.process_words(refs, hyps) if refs else None
    counts = {
        "hits": out.hits if out else 0,
        "substitutions": out.substitutions if out else 0,
        "deletions": out.deletions if out else 0,
        "insertions": out.insertions if out else 0,
    }
    counts["errors"] = counts["substitutions"] + counts["deletions"] + counts["insertions"]
    counts["ref_words"] = counts["hits"] + counts["substitutions"] + counts["deletions"]
    return counts


def utterance_errors(
    refs: Texts, hyps: Texts, normalize: bool = True
) -> tuple[list[int], list[int]]:
    """Per utterance: word errors (substitutions + deletions + insertions) and reference words,
    from one alignment; their sums give :func:`error_counts`' totals."""
    refs, hyps = _texts(refs, hyps, normalize)
    if not refs:
        return [], []
    alignments = jiwer.process_words(refs, hyps).alignments
    errors = []
    for chunks in alignments:
        count = 0
        for chunk in chunks:
            if chunk.type == "insert":
                count += chunk.hyp_end_idx - chunk.hyp_start_idx
            elif chunk.type != "equal":
                count += chunk.ref_end_idx - chunk.ref_start_idx
        errors.append(count)
    return errors, [len(r.split()) for r in refs]


def hypothesis_word_hits(reference: str, hypothesis_words: Sequence[str]) -> list[bool]:
    """For each hypothesis word, whether the alignment with the normalised reference matches
    it (substituted and inserted words are wrong)."""
    hits = [False] * len(hypothesis_words)
    reference = normalize_text(reference)
    if not hypothesis_words or not reference:
        return hits
    chunks = jiwer.process_words(reference, " ".join(hypothesis_words)).alignments[0]
    for chunk in chunks:
        if chunk.type == "equal":
            for j in range(chunk.hyp_start_idx, chunk.hyp_end_idx):
                hits[j] = True
    return hits


def wer(refs: Texts, hyps: Texts, normalize: bool = True) -> float:
    """Corpus-level word error rate (total errors over total reference words)."""
    counts = error_counts(refs, hyps, normalize)
    return _rate(counts["errors"], counts["ref_words"])


def cer(refs: Texts, hyps: Texts, normalize: bool = True) -> float:
    """Corpus-level character error rate (spaces count as characters)."""
    refs, hyps = _texts(refs, hyps, normalize)
    if not refs:
        return 0.0
    out = jiwer.process_characters(refs, hyps)
    total = out.hits + out.substitutions + out.deletions
    return _rate(out.substitutions + out.deletions + out.insertions, total)


def _occurrences(words: list[str], term: tuple[str, ...]) -> int:
    """Non-overlapping occurrences of a word sequence."""
    count, i, n = 0, 0, len(term)
    while i + n <= len(words):
        if tuple(words[i : i + n]) == term:
            count, i = count + 1, i + n
        else:
            i += 1
    return count


def term_hits(
    refs: Texts, hyps: Texts, term: str, normalize: bool = True
) -> tuple[list[int], list[int], list[int]]:
    """Per utterance: a term's hits, times said and times written (as a word sequence).

    Said ``r`` and written ``h`` times in one utterance gives ``min(r, h)`` hits."""
    refs, hyps = _texts(refs, hyps, normalize)
    key = tuple(normalize_text(term).split())
    said = [_occurrences(r.split(), key) for r in refs]
    written = [_occurrences(h.split(), key) for h in hyps]
    return [min(s, w) for s, w in zip(said, written, strict=True)], said, written


def term_stats(
    refs: Texts, hyps: Texts, terms: Iterable[str], normalize: bool = True
) -> dict[str, TermScores]:
    """Per-term recall and precision, counting term occurrences as (multi-)word sequences.

    In each utterance a term said ``r`` times and written ``h`` times gives
    ``tp = min(r, h)``, ``fn = r - tp``, ``fp = h - tp``; ``support`` is the total ``r``.
    Recall (precision) is 0.0 when the term has no support (no predictions).
    """
    refs, hyps = _texts(refs, hyps, normalize)
    stats = {}
    for term in terms:
        hits, said, written = (sum(c) for c in term_hits(refs, hyps, term, normalize=False))
        tp, fn, fp = hits, said - hits, written - hits
        stats[term] = TermScores(
            recall=tp / (tp + fn) if tp + fn else 0.0,
            precision=tp / (tp + fp) if tp + fp else 0.0,
            tp=tp,
            fn=fn,
            fp=fp,
            support=tp + fn,
        )
    return stats


def group_wer(items: Iterable[tuple[str, str, str]]) -> dict[str, GroupScores]:
    """WER and CER per group (voice, accent, split...) of ``(group, reference, hypothesis)``
    triples.

    An empty group name counts as ``"unknown"``; groups come sorted by name.
    """
    groups: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for group, ref, hyp in items:
        refs, hyps = groups[group or "unknown"]
        refs.append(ref or "")
        hyps.append(hyp or "")
    out = {}
    for name in sorted(groups):
        counts = error_counts(*groups[name])
        out[name] = GroupScores(
            wer=_rate(counts["errors"], counts["ref_words"]),
            clips=len(groups[name][0]),
            words=counts["ref_words"],
            cer=cer(*groups[name]),
        )
    return out
