"""Plans: what every clip of a corpus or drop says, with which voice, speed, pitch and noise.

A plan is pure data computed from typed settings (``corpus``, ``scenario``, ``grow.synthesize``)
and a seed, so the same config gives the same clips.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from asrloop.corpus.manifest import GROWN_SOURCE_PREFIX
from asrloop.corpus.text import SentenceGenerator
from asrloop.settings.corpus import CorpusSettings
from asrloop.settings.grow import GrowSynthesisSettings
from asrloop.settings.scenario import DropContentsSettings, ScenarioSettings

SPLITS = ("train", "dev", "test", "regression", "test_neural")
# Settings that say how clips are voiced (rate, pitch, noise, speed): both have those fields.
Voicing = CorpusSettings | GrowSynthesisSettings


@dataclass(frozen=True)
class ClipPlan:
    id: str
    text: str
    voice: str
    rate_wpm: int
    pitch: int
    snr_db: float | None
    speed: float
    split: str
    source: str

    def to_row(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ShardPlan:
    name: str
    clips: tuple[ClipPlan, ...]


def _voice_params(rng: random.Random, voices: Sequence[str], voicing: Voicing) -> dict:
    low, high = voicing.rate_wpm
    pitch_low, pitch_high = voicing.pitch
    noise = voicing.noise
    snr = None
    if rng.random() < noise.prob:
        snr = round(rng.uniform(*noise.snr_db), 1)
    speeds = list(voicing.speed_perturb)
    return {
        "voice": rng.choice(list(voices)),
        "rate_wpm": rng.randint(low, high),
        "pitch": rng.randint(pitch_low, pitch_high),
        "snr_db": snr,
        "speed": rng.choice(speeds),
    }


def plan_renditions(
    name: str,
    sentences: Sequence[tuple[str, str]],
    copies: int,
    settings: GrowSynthesisSettings,
    source: str,
) -> ShardPlan:
    """``copies`` synthesized renditions of each ``(clip id, sentence)``, each by another voice
    of ``settings.voices`` (in turn again when the copies outnumber the voices) with its rate,
    pitch, speed and noise drawn as for the corpus. Ordered copy by copy: the first ``n`` clips
    spread over the sentences."""
    clips = []
    for clip_id, text in sentences:
        rng = random.Random(f"{name}-{clip_id}")
        voices = list(settings.voices)
        rng.shuffle(voices)
        for k in range(copies):
            params = _voice_params(rng, [voices[k % len(voices)]], settings)
            clips.append(
                (k, ClipPlan(f"{clip_id}-tts{k}", text, split="train", source=source, **params))
            )
    return ShardPlan(name, tuple(clip for _, clip in sorted(clips, key=lambda c: c[0])))


def _chunk(name: str, clips: list[ClipPlan], size: int) -> list[ShardPlan]:
    return [
        ShardPlan(f"{name}-{k:03d}", tuple(clips[start : start + size]))
        for k, start in enumerate(range(0, len(clips), size))
    ]


def corpus_sentences(
    corpus: CorpusSettings, forbidden_words: Sequence[str]
) -> dict[str, list[str]]:
    """The base corpus's sentences per split (distinct across splits)."""
    generator = SentenceGenerator(
        corpus.text.templates,
        corpus.text.slots,
        corpus.min_words,
        corpus.max_words,
        forbidden_words,
    )
    sizes = asdict(corpus.splits)
    # The regression set has its own seed: it never changes when the corpus grows or is resized.
    regression = generator.generate(sizes["regression"], seed=corpus.regression_seed)
    others = generator.generate(
        sizes["train"] + sizes["dev"] + sizes["test"], seed=corpus.seed, exclude=regression
    )
    # The neural-voice test split has sentences of its own (drawn after the others, so that
    # adding it changes no other split).
    neural = generator.generate(
        sizes["test_neural"], seed=corpus.seed + 1, exclude=[*regression, *others]
    )
    return {
        "regression": regression,
        "train": others[: sizes["train"]],
        "dev": others[sizes["train"] : sizes["train"] + sizes["dev"]],
        "test": others[sizes["train"] + sizes["dev"] :],
        "test_neural": neural,
    }


def plan_corpus(corpus: CorpusSettings, forbidden_words: Sequence[str]) -> list[ShardPlan]:
    """Shards for the base corpus: distinct sentences per split, held-out voices in test, the
    neural voices (Piper) in test_neural."""
    sentences = corpus_sentences(corpus, forbidden_words)
    shards: list[ShardPlan] = []
    for split in SPLITS:
        voices = {"test": corpus.voices.heldout, "test_neural": corpus.voices.neural}.get(
            split, corpus.voices.train
        )
        if not sentences[split]:
            continue
        seed = corpus.regression_seed if split == "regression" else corpus.seed
        rng = random.Random(f"{seed}-{split}")
        clips = [
            ClipPlan(
                id=f"{split}-{i:05d}",
                text=text,
                split=split,
                source=f"{corpus.name}/{split}",
                **_voice_params(rng, voices, corpus),
            )
            for i, text in enumerate(sentences[split])
        ]
        shards.extend(_chunk(split, clips, corpus.shard_size))
    return shards


def drop_contents(scenario: ScenarioSettings, index: int) -> DropContentsSettings:
    """What drop ``index`` (1-based) brings: the scenario's ``drops`` entry (the last repeats)."""
    drops = scenario.drops
    return drops[min(index, len(drops)) - 1]


def terms_so_far(scenario: ScenarioSettings, index: int) -> list[str]:
    """Emerging terms that drops 1..``index`` have said, in first-arrival order."""
    terms: list[str] = []
    for k in range(1, index + 1):
        terms += [t for t, share in drop_contents(scenario, k).terms.items() if share > 0]
    return list(dict.fromkeys(terms))


def plan_drop(
    corpus: CorpusSettings, scenario: ScenarioSettings, drop_name: str, seed: int, index: int
) -> ShardPlan:
    """Production drop ``index``: each of its terms in its share of the sentences, near-miss
    sentences (words the terms sound like, never a term), the rest plain news; a shifted voice
    mix."""
    slots = corpus.text.slots
    terms = list(scenario.terms)
    base = SentenceGenerator(
        corpus.text.templates, slots, corpus.min_words, corpus.max_words, terms
    )
    drop, contents = scenario.drop, drop_contents(scenario, index)
    rng = random.Random(f"{seed}-{drop_name}")
    texts: list[str] = []
    for term, share in contents.terms.items():
        if share <= 0:
            continue
        emerging = SentenceGenerator(scenario.templates[term], slots, 4, corpus.max_words + 4)
        texts += emerging.generate(round(drop.size * share), seed=rng.randrange(2**31))
    if contents.near_miss > 0:
        near = SentenceGenerator(scenario.near_miss, slots, 4, corpus.max_words + 4, terms)
        texts += near.generate(round(drop.size * contents.near_miss), seed=rng.randrange(2**31))
    # never a sentence of the base corpus: a drop clip that repeats a test or regression
    # sentence would leak it into training once approved
    seen = {s for split in corpus_sentences(corpus, terms).values() for s in split}
    texts += base.generate(drop.size - len(texts), seed=rng.randrange(2**31), exclude=seen)
    rng.shuffle(texts)
    voicing = replace(corpus, noise=drop.noise, rate_wpm=drop.rate_wpm)  # the drop's own
    clips = tuple(
        ClipPlan(
            id=f"{drop_name}-{i:05d}",
            text=text,
            split="drop",
            source=f"{GROWN_SOURCE_PREFIX}{drop_name}",
            **_voice_params(rng, drop.voices, voicing),
        )
        for i, text in enumerate(texts)
    )
    return ShardPlan(drop_name, clips)
