"""The look-alike probe (``grow.probe``): after each fine-tune, fresh renditions of base
sentences saying a wide net of a new word's look-alikes (:mod:`asrloop.loop.lookalikes`; never
trained on, none of the contrast shard's sentences) are decoded by the new model. Where it
writes a term, the aligned reference words are what it was written for; a growth round then
says those words in ``grow.round.false_alarm`` more base sentences (the probe's own last, so
the probe stays a fair measure after the round).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from asrloop.artifacts import MANIFEST, Layout
from asrloop.corpus.manifest import Utterance, iter_corpus, read_manifest
from asrloop.corpus.plan import ShardPlan
from asrloop.corpus.shards import render_shards
from asrloop.inference.batch import Prediction
from asrloop.loop.align import align
from asrloop.loop.lookalikes import (
    CONTRAST_SHARD_SUFFIX,
    LookalikeSearch,
    Phonemizer,
    espeak_phonemizer,
    find_contrast,
    plan_in_other_voices,
)
from asrloop.metrics import term_spans
from asrloop.progress import console, progress_bar
from asrloop.settings.grow import GrowSettings, GrowSynthesisSettings
from asrloop.text.normalize import normalize_text

PROBE_NAME_SUFFIX = "-probe"  # the probe's clip ids: <drop>-probe-<base clip id>-tts0


def written_for(reference: str, hypothesis: str, term: str) -> list[str]:
    """For each occurrence of ``term`` in ``hypothesis`` that ``reference`` does not say
    there, the reference words aligned to it (what the term was written for)."""
    key = tuple(normalize_text(term).split())
    ref_words = normalize_text(reference).split()
    hyp_words = normalize_text(hypothesis).split()
    spans = [set(span) for span in term_spans(hyp_words, key)]
    said: list[list[str]] = [[] for _ in spans]
    position = 0
    for edit in align(ref_words, hyp_words):
        covered = set(range(position, position + len(edit.hyp)))
        for k, span in enumerate(spans):
            if covered & span:
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
