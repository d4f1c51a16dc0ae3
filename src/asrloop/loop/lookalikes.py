"""Look-alikes of a new word: said beside it in training, and probed after the fine-tune.

A fine-tune on a new word drifts the acoustics of the words that sound like it, and the
lexicon and LM then write the new word there (a known word containing its sounds becomes the
term: measured on the shipped scenarios with rare words, where it cost the term its precision).
Two defences, both from espeak-ng's phonemes of the corpus words
(:func:`asrloop.text.sounds.contains_sounds`):

* **Contrast** (``grow.contrast``): ``asrloop grow`` renders, for each word of a term the base
  corpus never says, base training sentences that say its closest look-alikes, in training
  voices other than the sentence's own. They enter the grown corpus as the ``<drop>-contrast``
  shard and are repeated like the drop's clips, so the fine-tune hears both side by side.
* **Probe** (``grow.probe``): after each fine-tune the loop decodes fresh renditions of base
  sentences saying a wider net of look-alikes (never trained on). Where the new model writes
  a term, the aligned reference words are what it was written for; a growth round then says
  those words in ``grow.round.false_alarm`` more base sentences (not the probe's own).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Protocol

from asrloop.artifacts import MANIFEST, Layout
from asrloop.corpus.manifest import Utterance, iter_corpus, read_manifest
from asrloop.corpus.plan import ClipPlan, ShardPlan, plan_renditions
from asrloop.corpus.shards import render_shards
from asrloop.inference.batch import Prediction
from asrloop.loop.align import align
from asrloop.metrics import term_spans
from asrloop.progress import console, progress_bar
from asrloop.settings.grow import GrowSettings, GrowSynthesisSettings
from asrloop.text.normalize import normalize_text
from asrloop.text.sounds import contains_sounds, phoneme_units

CONTRAST_SHARD_SUFFIX = "-contrast"  # data/corpus/grown/<drop>-contrast

PROBE_NAME_SUFFIX = "-probe"  # the probe's clip ids: <drop>-probe-<base clip id>-tts0

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
    from asrloop.corpus.espeak import engine

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


def written_for(reference: str, hypothesis: str, term: str) -> list[str]:
    """For each occurrence of ``term`` in ``hypothesis`` that ``reference`` does not say
    there, the reference words aligned to it (what the term was written for)."""
    key = tuple(normalize_text(term).split())
    ref_words = normalize_text(reference).split()
    hyp_words = normalize_text(hypothesis).split()
    said: list[list[str]] = [[] for _ in term_spans(hyp_words, key)]
    position = 0
    for edit in align(ref_words, hyp_words):
        covered = set(range(position, position + len(edit.hyp)))
        for k, span in enumerate(term_spans(hyp_words, key)):
            if covered & set(span):
                said[k] += edit.ref
        position += len(edit.hyp)
    return [" ".join(words) for words in said if not term_spans(words, key)]


def false_alarms(
    predictions: Sequence[Prediction], terms: Sequence[str]
) -> dict[str, Counter[str]]:
    """Per term written where it was not said: what was said there, and how often ("" when
    the term was inserted over nothing)."""
    found: dict[str, Counter[str]] = {}
    for prediction in predictions:
        for term in terms:
            for words in written_for(prediction.reference, prediction.hypothesis, term):
                found.setdefault(term, Counter())[words] += 1
    return found


def plan_probe(
    drop: str,
    terms: Sequence[str],
    rows: Sequence[Utterance],
    phonemize: Phonemizer,
    probe: LookalikeSearch,
    contrast: LookalikeSearch,
    voicing: GrowSynthesisSettings,
) -> ShardPlan:
    """The look-alike probe of ``drop``: fresh renditions of base sentences saying the terms'
    look-alikes (a wider net than the contrast shard's, none of its sentences)."""
    trained = find_contrast(terms, rows, phonemize, contrast, f"{drop}{CONTRAST_SHARD_SUFFIX}")
    exclude = {row.id for row, _ in trained} if contrast.clips > 0 else set()
    name = f"{drop}{PROBE_NAME_SUFFIX}"
    chosen = find_contrast(terms, rows, phonemize, probe, name, exclude)
    return plan_in_other_voices(name, f"probe/{drop}", [row for row, _ in chosen], voicing)


def false_alarm_rows(
    alarms: dict[str, Counter[str]],
    rows: Sequence[Utterance],
    per_word: int,
    avoid: Collection[str],
    seed: str,
) -> list[Utterance]:
    """Base rows for a round: ``per_word`` that say each word a term was written for (the
    longest word of what was said there), sentences not in ``avoid`` (the probe's, so the
    probe stays a fair measure after the round) first."""
    words = dict.fromkeys(
        max(said.split(), key=len) for found in alarms.values() for said in found if said
    )
    rng = random.Random(seed)
    chosen: dict[str, Utterance] = {}
    for word in words:
        saying = [r for r in rows if word in (r.text or "").split() and r.id not in chosen]
        fresh = [r for r in saying if (r.text or "") not in avoid]
        probed = [r for r in saying if (r.text or "") in avoid]
        rng.shuffle(fresh)
        rng.shuffle(probed)
        for row in (fresh + probed)[:per_word]:
            chosen[row.id] = row
    return list(chosen.values())


@dataclass(frozen=True)
class LookalikeProbe:
    """The probe's rendered clips, decoded after each fine-tune (``grow.probe``)."""

    clips: list[Utterance]
    terms: list[str]
    base_rows: list[Utterance]
    per_word: int  # grow.round.false_alarm

    @classmethod
    def prepare(
        cls, layout: Layout, grow: GrowSettings, terms: Sequence[str], language: str, drop: str
    ) -> LookalikeProbe | None:
        """Render (once; a finished probe is kept) the probe of ``drop`` for ``terms``; None
        when the probe is off or no term has a look-alike."""
        if grow.probe.clips <= 0 or not terms:
            return None
        rows = list(iter_corpus(layout.base_corpus, ["train"]))
        phonemize = espeak_phonemizer(grow.synthesize.voices, language)
        plan = plan_probe(drop, terms, rows, phonemize, grow.probe, grow.contrast, grow.synthesize)
        if not plan.clips:
            return None
        folder = layout.lookalike_probe(drop)
        with progress_bar(f"look-alike probe: {len(plan.clips)} clips", len(plan.clips)) as tick:
            render_shards([plan], folder, grow.synthesize.workers, on_progress=tick)
        clips = read_manifest(folder / plan.name / MANIFEST, contained=True)
        return cls(clips, list(terms), rows, int(grow.round.false_alarm))

    def false_alarms(
        self, decode: Callable[[list[Utterance], str], list[Prediction]]
    ) -> dict[str, Counter[str]]:
        """Per term, what the probe's sentences said where ``decode`` wrote the term."""
        found = false_alarms(decode(self.clips, "look-alike probe"), self.terms)
        for term, said in found.items():
            console.print(
                f"[yellow]look-alike probe: '{term}' written for "
                + ", ".join(f"{w or '(nothing)'} x{n}" for w, n in said.most_common())
            )
        return found

    def round_rows(self, alarms: dict[str, Counter[str]], seed: str) -> list[Utterance]:
        """Base rows saying what the terms were written for (:func:`false_alarm_rows`)."""
        avoid = {clip.text or "" for clip in self.clips}
        return false_alarm_rows(alarms, self.base_rows, self.per_word, avoid, seed)
