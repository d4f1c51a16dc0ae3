"""The sentence generator: deterministic, within bounds, never the emerging terms."""

from __future__ import annotations

import random

import pytest

from asrloop.config import compose
from asrloop.corpus.numbers import spell_number, spell_year
from asrloop.corpus.text import SentenceGenerator


@pytest.fixture(scope="module")
def news():
    cfg = compose()
    generator = SentenceGenerator(
        cfg.corpus.text.templates,
        cfg.corpus.text.slots,
        cfg.corpus.min_words,
        cfg.corpus.max_words,
        cfg.scenario.terms,
    )
    return cfg, generator


def test_same_seed_same_sentences(news):
    _, generator = news
    assert generator.generate(300, seed=7) == generator.generate(300, seed=7)
    assert generator.generate(300, seed=7) != generator.generate(300, seed=8)


def test_sentences_respect_length_and_never_hold_the_terms(news):
    cfg, generator = news
    sentences = generator.generate(2000, seed=1)
    assert len(set(sentences)) == 2000
    terms = set(cfg.scenario.terms)
    for sentence in sentences:
        words = sentence.split()
        assert cfg.corpus.min_words <= len(words) <= cfg.corpus.max_words
        assert not terms.intersection(words), sentence
        assert set(sentence) <= set(cfg.corpus.alphabet)


def test_near_miss_words_are_in_the_base_corpus(news):
    _, generator = news
    words = {w for s in generator.generate(3000, seed=2) for w in s.split()}
    assert {"bread", "sit", "break", "exit", "it"} <= words


def test_unknown_slot_is_reported():
    with pytest.raises(ValueError, match="unknown slot"):
        SentenceGenerator(["the {nothing} said"], {"noun": ["cat"]})


def test_exclude_keeps_splits_disjoint(news):
    _, generator = news
    first = generator.generate(200, seed=3)
    second = generator.generate(200, seed=3, exclude=first)
    assert not set(first) & set(second)


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (42, "forty two"),
        (100, "one hundred"),
        (342, "three hundred and forty two"),
        (2005, "two thousand and five"),
        (21000, "twenty one thousand"),
    ],
)
def test_spell_number(number, words):
    assert spell_number(number) == words


def test_spell_year():
    assert spell_year(1999) == "nineteen ninety nine"
    assert spell_year(2007) == "two thousand and seven"
    assert spell_year(1905) == "nineteen oh five"
    rng = random.Random(0)
    assert all(spell_year(rng.randint(1950, 2009)) for _ in range(100))
