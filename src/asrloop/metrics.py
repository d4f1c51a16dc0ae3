"""Corpus-level error rates, per-term recall/precision and B-WER/U-WER, on normalised text.

Every function normalises with :func:`asrloop.text.normalize.normalize_text` unless told not to,
so "Prime Minister," and "prime minister" agree. Empty references and hypotheses are fine: an
empty reference against a non-empty hypothesis counts its words as insertions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


def term_spans(words: list[str], term: tuple[str, ...]) -> list[range]:
    """Where a word sequence occurs in ``words``: non-overlapping, left to right."""
    spans, i, n = [], 0, len(term)
    while n and i + n <= len(words):
        if tuple(words[i : i + n]) == term:
            spans.append(range(i, i + n))
            i += n
        else:
            i += 1
    return spans


def _occurrences(words: list[str], term: tuple[str, ...]) -> int:
    """Non-overlapping occurrences of a word sequence."""
    return len(term_spans(words, term))


def times_said(text: str, term: str) -> int:
    """How often ``text`` says ``term`` (normalised word sequences, non-overlapping)."""
    return _occurrences(normalize_text(text).split(), tuple(normalize_text(term).split()))


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


def _word_sequences(phrases: Iterable[str]) -> list[tuple[str, ...]]:
    """Each phrase as its normalised words (empty ones left out)."""
    return [seq for seq in (tuple(normalize_text(p).split()) for p in phrases) if seq]


def _phrase_positions(words: list[str], phrases: Sequence[tuple[str, ...]]) -> set[int]:
    """Positions of ``words`` covered by an occurrence of any phrase (longest first)."""
    covered: set[int] = set()
    for phrase in sorted(phrases, key=len, reverse=True):
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i : i + n]) == phrase and not covered.intersection(range(i, i + n)):
                covered.update(range(i, i + n))
    return covered


@dataclass(frozen=True)
class BiasedErrors:
    """Per utterance: errors and reference words on the biasing list (B) and off it (U)."""

    b_errors: list[int]
    b_words: list[int]
    u_errors: list[int]
    u_words: list[int]

    @property
    def b_wer(self) -> float:
        return _rate(sum(self.b_errors), sum(self.b_words))

    @property
    def u_wer(self) -> float:
        return _rate(sum(self.u_errors), sum(self.u_words))


def biased_errors(
    refs: Texts, hyps: Texts, phrases: Iterable[str], normalize: bool = True
) -> BiasedErrors:
    """B-WER and U-WER counts (Le et al., Interspeech 2021; fbai-speech ``is21_deep_bias``).

    A reference word is *biased* when it lies inside an occurrence of a listed phrase (a
    one-word term is the original definition; a multi-word term marks all its words). Its
    substitution or deletion is a B error, any other reference word's a U error. An inserted
    word is a B error only when it lies inside an occurrence of a listed phrase in the
    hypothesis, a U error otherwise. B + U errors = the WER's errors."""
    refs, hyps = _texts(refs, hyps, normalize)
    listed = _word_sequences(phrases)
    out = BiasedErrors([], [], [], [])
    if not refs:
        return out
    for ref, hyp, chunks in zip(
        refs, hyps, jiwer.process_words(refs, hyps).alignments, strict=True
    ):
        ref_words, hyp_words = ref.split(), hyp.split()
        biased_ref = _phrase_positions(ref_words, listed)
        biased_hyp = _phrase_positions(hyp_words, listed)
        b_err = u_err = 0
        for chunk in chunks:
            if chunk.type == "insert":
                inserted = range(chunk.hyp_start_idx, chunk.hyp_end_idx)
                b = sum(1 for j in inserted if j in biased_hyp)
                b_err, u_err = b_err + b, u_err + len(inserted) - b
            elif chunk.type != "equal":
                wrong = range(chunk.ref_start_idx, chunk.ref_end_idx)
                b = sum(1 for i in wrong if i in biased_ref)
                b_err, u_err = b_err + b, u_err + len(wrong) - b
        out.b_errors.append(b_err)
        out.u_errors.append(u_err)
        out.b_words.append(len(biased_ref))
        out.u_words.append(len(ref_words) - len(biased_ref))
    return out


def false_alarm_clips(refs: Texts, hyps: Texts, terms: Iterable[str]) -> tuple[int, int]:
    """On term-free audio (clips whose reference says none of ``terms``): how many clips had
    a term written, and how many term-free clips there were."""
    refs, hyps = _texts(refs, hyps, True)
    listed = _word_sequences(terms)
    free = alarms = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        if any(_occurrences(ref.split(), t) for t in listed):
            continue
        free += 1
        alarms += any(_occurrences(hyp.split(), t) for t in listed)
    return alarms, free


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
