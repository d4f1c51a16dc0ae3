"""Spike detection: a planted phrase ranks first, ordinary phrases are not flagged."""

import random

from asrloop.loop.monitor import low_confidence_spans, rank_spikes

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
    production = [sentence(rng) for _ in range(200)]
    contexts = ["the X deal was signed", "talks on X will resume", "X prices will rise"]
    production += [sentence(rng, rng.choice(contexts).replace("X", "bread sit")) for _ in range(25)]
    spikes = rank_spikes(production, training, max_n=3, min_count=3)
    assert spikes[0].ngram == "bread sit"
    assert spikes[0].train_count == 0 and spikes[0].prod_count == 25
    flagged = {spike.ngram for spike in spikes}
    # parts and common-word extensions of the phrase are folded into it
    assert not flagged & {"bread", "sit", "the bread sit", "bread sit prices", "the bread"}
    # ordinary phrases, at their training rate, are never flagged
    assert not flagged & {"the minister", "said on monday", "the market fell", "that", "the"}


def test_no_spikes_without_a_shift():
    rng = random.Random(1)
    training = [sentence(rng) for _ in range(2000)]
    production = [sentence(rng) for _ in range(240)]
    assert rank_spikes(production, training) == []


def test_low_confidence_spans():
    rows = [
        {
            "id": "c1",
            "words": [
                {"word": "the", "start": 0.0, "end": 0.2, "confidence": 0.9},
                {"word": "bread", "start": 0.2, "end": 0.5, "confidence": 0.3},
                {"word": "sit", "start": 0.5, "end": 0.7, "confidence": 0.5},
                {"word": "deal", "start": 0.7, "end": 1.0, "confidence": 0.95},
            ],
        },
        {"id": "c2", "words": [{"word": "ok", "start": 0.0, "end": 0.3, "confidence": None}]},
    ]
    spans = low_confidence_spans(rows, threshold=0.6)
    assert spans == [
        {"id": "c1", "text": "bread sit", "start": 0.2, "end": 0.7, "confidence": 0.4, "n_words": 2}
    ]
