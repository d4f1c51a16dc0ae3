"""Grow until learned: after a fine-tune, each term's recall on its validation clips, and targeted
data for a term still short of ``grow.target_recall``.

The validation clips are approved production clips that ``asrloop grow`` kept out of training
(``validation.jsonl`` in the drop's grown shard), never the gate's held-out audio. A term short
of its target by ``deficit = (target - recall) / target`` (1 when the model never writes it)
gets a round shard, ``data/corpus/grown/<drop>-round<k>/``:

* ``ceil(grow.round.renditions * deficit)`` renditions of its approved training sentences, in
  the training voices and noise (``grow.synthesize``), and
* ``grow.round.contrastive`` as many contrastive sentences: the same sentences with the term
  replaced by what the model wrote instead on the validation clips (its look-alike), so the
  fine-tune learns the difference instead of writing the term for every look-alike.

The loop then fine-tunes again (``asrloop.steps.loop``), at most ``grow.max_rounds`` times.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from asrloop.artifacts import MANIFEST, VALIDATION
from asrloop.corpus.drop import Drop
from asrloop.corpus.manifest import GROWN_SOURCE_PREFIX, Utterance, read_manifest
from asrloop.corpus.plan import ClipPlan, ShardPlan, plan_renditions
from asrloop.corpus.shards import render_shards
from asrloop.inference.batch import Prediction
from asrloop.jsonio import iter_jsonl
from asrloop.loop.align import align
from asrloop.loop.lookalikes import plan_in_other_voices
from asrloop.metrics import term_spans, term_stats, times_said
from asrloop.progress import progress_bar
from asrloop.settings.grow import GrowRoundSettings, GrowSynthesisSettings
from asrloop.text.normalize import normalize_text


@dataclass(frozen=True)
class Shortfall:
    """A term below its target recall on the validation clips, and what was written instead."""

    term: str
    recall: float
    support: int  # occurrences in the validation clips
    deficit: float  # (target - recall) / target
    confusions: tuple[str, ...]  # what the model wrote instead, most frequent first

    def to_dict(self) -> dict:
        return {**asdict(self), "confusions": list(self.confusions)}


def validation_clips(grown_dir: Path, drops: Sequence[Drop]) -> list[Utterance]:
    """The drops' validation clips (their audio in the drop, their reviewed reference)."""
    clips = []
    for drop in drops:
        listed = grown_dir / drop.name / VALIDATION
        if not listed.exists() or not drop.manifest.exists():
            continue
        references = {str(e["id"]): str(e["reference"]) for _, e in iter_jsonl(listed)}
        clips += [
            clip.replace(text=references[clip.id])
            for clip in read_manifest(drop.manifest, require_text=False, contained=True)
            if clip.id in references and not drop.is_holdout(clip.id)
        ]
    return clips


def written_instead(reference: str, hypothesis: str, term: str) -> list[str]:
    """For each occurrence of ``term`` in ``reference``, the hypothesis words aligned to it,
    where they are not the term ("" where nothing was written)."""
    key = tuple(normalize_text(term).split())
    ref_words = normalize_text(reference).split()
    edits = align(ref_words, normalize_text(hypothesis).split())
    spans = term_spans(ref_words, key)
    heard: list[list[str]] = [[] for _ in spans]
    position = 0
    for edit in edits:
        covered = range(position, position + len(edit.ref))
        for k, span in enumerate(spans):
            inside = set(covered) & set(span) if edit.ref else span.start < position < span.stop
            if inside:
                heard[k] += edit.hyp
        position += len(edit.ref)
    return [" ".join(words) for words in heard if tuple(words) != key]


def shortfalls(
    predictions: Sequence[Prediction],
    terms: Sequence[str],
    target: float,
    min_support: int,
    max_confusions: int = 2,
) -> tuple[dict[str, float], list[Shortfall]]:
    """Each measured term's validation recall, and the terms below ``target`` (a term said
    fewer than ``min_support`` times is not measured)."""
    refs = [p.reference for p in predictions]
    hyps = [p.hypothesis for p in predictions]
    stats = term_stats(refs, hyps, terms)
    recall, short = {}, []
    for term, scores in stats.items():
        if scores.support < min_support:
            continue
        recall[term] = scores.recall
        if scores.recall >= target:
            continue
        heard: Counter[str] = Counter()
        for p in predictions:
            for words in written_instead(p.reference, p.hypothesis, term):
                if words and not any(times_said(words, other) for other in terms):
                    heard[words] += 1
        confusions = tuple(words for words, _ in heard.most_common(max_confusions))
        deficit = (target - scores.recall) / target
        short.append(Shortfall(term, scores.recall, scores.support, deficit, confusions))
    return recall, short


def replace_term(sentence: str, term: str, instead: str) -> str:
    """``sentence`` with every occurrence of ``term`` replaced by ``instead`` (word sequences)."""
    words = normalize_text(sentence).split()
    out, i = [], 0
    for span in term_spans(words, tuple(normalize_text(term).split())):
        out += [*words[i : span.start], *instead.split()]
        i = span.stop
    return " ".join(out + words[i:])


def _first(clips: Sequence[ClipPlan], count: int) -> list[ClipPlan]:
    return list(clips[: max(0, count)])


def plan_round(
    name: str,
    source: str,
    short: Sequence[Shortfall],
    sentences: dict[str, list[tuple[str, str]]],
    amounts: GrowRoundSettings,
    voicing: GrowSynthesisSettings,
    false_alarm_rows: Sequence[Utterance] = (),
) -> ShardPlan:
    """The round's clips: per short term, renditions of its sentences (``(id, text)`` of its
    approved training clips) and contrastive sentences, both in proportion to its deficit;
    then one rendition of each of ``false_alarm_rows`` (base rows saying the words the
    look-alike probe heard as a term), in another voice than its own."""
    clips: list[ClipPlan] = []
    for shortfall in short:
        said = [(f"{name}-{clip}", text) for clip, text in sentences.get(shortfall.term, [])]
        if not said:
            continue
        count = math.ceil(amounts.renditions * shortfall.deficit)
        copies = math.ceil(count / len(said))
        clips += _first(plan_renditions(name, said, copies, voicing, source).clips, count)
        contrast = math.ceil(count * amounts.contrastive)
        swapped = [
            (f"{clip}-vs{k}", replace_term(text, shortfall.term, instead))
            for clip, text in said
            for k, instead in enumerate(shortfall.confusions)
        ]
        if swapped and contrast > 0:
            copies = math.ceil(contrast / len(swapped))
            clips += _first(plan_renditions(name, swapped, copies, voicing, source).clips, contrast)
    clips += plan_in_other_voices(name, source, false_alarm_rows, voicing).clips
    return ShardPlan(name, tuple(clips))


def term_sentences(
    grown_dir: Path, drops: Sequence[Drop], terms: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """``{term: [(clip id, sentence)]}`` of the approved training clips (the drops' grown
    shards, not their synthesized renditions) that say each term."""
    rows = []
    for drop in drops:
        manifest = grown_dir / drop.name / MANIFEST
        if manifest.exists():
            rows += read_manifest(manifest, contained=True)
    return {
        term: [(row.id, row.text or "") for row in rows if times_said(row.text or "", term)]
        for term in terms
    }


def round_name(drop: str, number: int) -> str:
    return f"{drop}-round{number}"


def write_round(
    grown_dir: Path,
    drop: str,
    number: int,
    short: Sequence[Shortfall],
    sentences: dict[str, list[tuple[str, str]]],
    amounts: GrowRoundSettings,
    voicing: GrowSynthesisSettings,
    false_alarm_rows: Sequence[Utterance] = (),
) -> tuple[Path, int] | None:
    """Render round ``number``'s shard for ``drop`` (a finished one is kept: a rerun after a
    kill renders only what is missing); returns its folder and clip count, or None when it
    has nothing to say."""
    name = round_name(drop, number)
    source = f"{GROWN_SOURCE_PREFIX}{drop}"
    plan = plan_round(name, source, short, sentences, amounts, voicing, false_alarm_rows)
    if not plan.clips:
        return None
    with progress_bar(f"round {number}: {len(plan.clips)} targeted clips", len(plan.clips)) as tick:
        render_shards([plan], grown_dir, voicing.workers, on_progress=tick)
    return grown_dir / name, len(plan.clips)
