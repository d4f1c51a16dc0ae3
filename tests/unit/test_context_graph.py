"""The context graph (word-level Aho-Corasick with cancellation) and context biasing inside the
lexicon beam search, on synthetic posteriors. Terms are spelled only here and in config."""

from __future__ import annotations

import pytest
import torch

from asrloop.text.context_graph import START, ContextGraph
from asrloop.text.vocabulary import add_words, build_vocabulary, load_vocabulary
from tests.unit.test_decode import lexicon_decoder

BONUS = 1.5


def walk(graph: ContextGraph, words: str) -> tuple[float, object]:
    total, state = 0.0, START
    for word in words.split():
        score, state = graph.step(state, word)
        total += score
    return total, state


def test_each_matched_word_earns_the_bonus_and_a_whole_phrase_keeps_it():
    graph = ContextGraph([["heat", "pump"]], BONUS)
    total, state = walk(graph, "a new heat pump")
    assert total == pytest.approx(2 * BONUS)
    assert state == START and graph.finish(state) == 0.0


def test_a_failed_partial_match_gives_its_bonus_back():
    graph = ContextGraph([["heat", "pump", "grant"]], BONUS)
    total, state = walk(graph, "heat pump")
    assert total == pytest.approx(2 * BONUS)  # given while the match is open
    assert walk(graph, "heat pump fitted")[0] == pytest.approx(0.0)  # fails: all given back
    assert total + graph.finish(state) == pytest.approx(0.0)  # ends open: given back too
    assert walk(graph, "heat pump grant")[0] == pytest.approx(3 * BONUS)


def test_a_failure_falls_back_to_the_longest_suffix_that_is_a_prefix():
    graph = ContextGraph([["nicola", "sturgeon", "said"], ["sturgeon", "moon"]], BONUS)
    # "nicola sturgeon" open (2 bonuses), then "moon": the suffix "sturgeon" goes on as
    # "sturgeon moon", a whole phrase of 2 words: the net is its 2 bonuses
    total, state = walk(graph, "nicola sturgeon moon")
    assert total == pytest.approx(2 * BONUS) and state == START


def test_a_phrase_inside_a_longer_one_keeps_its_bonus():
    graph = ContextGraph([["boris"], ["boris", "johnson"]], BONUS)
    assert walk(graph, "boris went")[0] == pytest.approx(BONUS)
    assert walk(graph, "boris johnson")[0] == pytest.approx(2 * BONUS)


TEXTS = [
    "the tax is next",
    "pay the tax now",
    "the tax office",
    "bread sit down",
    "a very vivid view",
]


def frames(text, tokenizer, alternatives=None, peak=6.0):
    """[1, T, V] log-probs spelling ``text``; ``alternatives`` {position: (char, logit)} adds a
    second candidate on a character's frames (an ambiguous sound)."""
    alternatives = alternatives or {}
    rows = []
    for position, char in enumerate(text):
        token = tokenizer.index[tokenizer.to_symbol(char)]
        for _ in range(2):
            row = torch.zeros(len(tokenizer))
            row[token] = peak
            if position in alternatives:
                other, logit = alternatives[position]
                row[tokenizer.index[tokenizer.to_symbol(other)]] = logit
            rows.append(row)
        blank = torch.zeros(len(tokenizer))
        blank[tokenizer.blank_id] = peak
        rows.append(blank)
    return torch.stack(rows).log_softmax(-1)[None]


def decoder(folder, bias=(), bonus=0.0):
    return lexicon_decoder(folder, bias=bias, bias_bonus=bonus)


def test_biasing_turns_an_ambiguous_sound_into_the_term_and_leaves_other_words(tmp_path):
    folder = tmp_path / "vocab"
    build_vocabulary(TEXTS, folder, order=3)
    add_words(folder, ["vax"], hot=False)  # in the lexicon, never in the LM text
    tokenizer = load_vocabulary(folder).tokenizer
    # "tax" with the first sound nearly as much "v" as "t"
    heard = frames("the tax is next", tokenizer, {4: ("v", 5.5)})
    plain, biased = decoder(folder), decoder(folder, ["vax"], bonus=4.0)
    assert plain.graph is None and biased.graph is not None
    assert plain.decode(heard)[0].text == "the tax is next"
    assert biased.decode(heard)[0].text == "the vax is next"
    clear = frames("bread sit down", tokenizer)
    assert biased.decode(clear)[0].text == plain.decode(clear)[0].text == "bread sit down"


def test_phrases_the_lexicon_cannot_write_are_left_out(tmp_path):
    folder = tmp_path / "vocab"
    build_vocabulary(TEXTS, folder, order=3)
    assert decoder(folder, ["zorb"], bonus=4.0).graph is None
    assert decoder(folder, ["the tax", "zorb"], bonus=4.0).graph.phrases == 1
