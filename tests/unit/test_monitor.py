"""Spike detection: a planted phrase ranks first, ordinary phrases are not flagged."""

import random

from asrloop.config import compose
from asrloop.inference.transcript import Transcript
from asrloop.inference.types import Transcription, WordTiming
from asrloop.loop.monitor import LowConfidenceSpan, low_confidence_spans
from asrloop.loop.monitor import rank_spikes as rank
from asrloop.settings import typed

SETTINGS = typed(compose()).triage.monitor


def rank_spikes(production, training, **changes):
    """The monitor's ranking with the real settings, some changed."""
    import dataclasses

    return rank(production, training, dataclasses.replace(SETTINGS, **changes))


SUBJECTS = ["the minister", "the council", "a spokesman", "the committee", "the bank"]
VERBS = ["said on monday that", "announced that", "confirmed that", "warned that"]
OBJECTS = [
    "prices will rise",
    "the deal was signed",
    "talks will resume",
    "the vote was delayed",
    "the market fell",
    "bread prices will sit higher",
]


def sentence(rng: random.Random, obj: str | None = None) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {obj or rng.choice(OBJECTS)}"


def test_planted_phrase_ranks_first():
    rng = random.Random(0)
    training = [sentence(rng) for _ in range(1000)]
    ordinary = [sentence(rng) for _ in range(200)]
    contexts = ["the X deal was signed", "talks on X will resume", "X prices will rise"]
    planted = [sentence(rng, rng.choice(contexts).replace("X", "bread sit")) for _ in range(25)]
    spikes = rank_spikes(ordinary + planted, training, max_n=3, min_count=3)
    assert spikes[0].ngram == "bread sit"
    assert (spikes[0].prod_count, spikes[0].train_count) == (25, 0)
    flagged = {spike.ngram for spike in spikes}
    # parts and common-word contexts of the phrase are not reported again
    assert not flagged & {"bread", "sit", "the bread", "the bread sit", "bread sit prices"}
    # ordinary phrases, at their training rate, are never flagged: only the planted text is
    assert not flagged & {"the minister", "said on monday", "the market fell", "that", "the"}
    assert all(any(f" {ngram} " in f" {text} " for text in planted) for ngram in flagged)


def test_ties_prefer_the_phrase_without_common_words():
    training = ["the vote was held on monday"] * 50 + ["bread prices will sit higher"] * 5
    production = ["the vote was held on monday"] * 10 + ["the bread sit vote was held"] * 6
    spikes = rank_spikes(production, training, min_count=3)
    assert spikes[0].ngram == "bread sit"
    assert "the bread sit" not in {spike.ngram for spike in spikes}
    # with both words new to training, the phrase still beats its single words
    spikes = rank_spikes(production, training[:50], min_count=3)
    assert [spike.ngram for spike in spikes] == ["bread sit"]


def test_low_confidence_spans():
    words = [
        {"word": "the", "start": 0.0, "end": 0.2, "confidence": 0.9},
        {"word": "bread", "start": 0.2, "end": 0.5, "confidence": 0.3},
        {"word": "sit", "start": 0.5, "end": 0.7, "confidence": 0.5},
        {"word": "deal", "start": 0.7, "end": 1.0, "confidence": 0.95},
    ]
    unknown = [{"word": "ok", "start": 0.0, "end": 0.3, "confidence": None}]
    rows = [
        Transcript("c1", "c1.wav", 1.0, "v", Transcription.from_word_dicts(words), "1", "v"),
        Transcript("c2", "c2.wav", 1.0, "v", Transcription.from_word_dicts(unknown), "1", "v"),
    ]
    spans = low_confidence_spans(rows, threshold=0.6)
    assert spans == [LowConfidenceSpan("c1", "bread sit", 0.2, 0.7, 0.4, 2)]
    assert WordTiming("ok", 0.0, 0.3, 1.0) in rows[1].transcription.words  # unknown: never low
