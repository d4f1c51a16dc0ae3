"""Context biasing compiled into the n-gram LM: the bonuses it adds, and the native search it
steers like the context graph."""

from __future__ import annotations

import pytest

from asrloop.text.arpa import estimate, read_arpa
from asrloop.text.lm_bias import bias_model, without_positive_scores
from asrloop.text.vocabulary import add_words, build_vocabulary, load_vocabulary
from tests.unit.test_context_graph import TEXTS, frames
from tests.unit.test_decode import lexicon_decoder

SENTENCES = ["the heat was high", "a heat pump was fitted", "the pump broke", "a cat sat"]


def test_a_word_gains_its_bonus_in_every_context_and_others_keep_theirs():
    model = estimate(SENTENCES, order=3)
    biased = bias_model(model, [("cat",)], 0.7)
    for context in [(), ("a",), ("the", "heat"), ("sat",)]:
        assert biased.logprob("cat", context) == pytest.approx(model.logprob("cat", context) + 0.7)
        assert biased.logprob("pump", context) == pytest.approx(model.logprob("pump", context))


def test_a_phrase_earns_a_bonus_per_word_only_when_whole():
    model = estimate(SENTENCES, order=3)
    biased = bias_model(model, [("heat", "pump")], 0.5)
    assert biased.logprob("pump", ("heat",)) == pytest.approx(
        model.logprob("pump", ("heat",)) + 1.0
    )
    assert biased.logprob("pump", ("a", "heat")) == pytest.approx(
        model.logprob("pump", ("a", "heat")) + 1.0
    )
    # unseen before: "the heat pump" backs off to the biased bigram
    assert biased.logprob("pump", ("the", "heat")) == pytest.approx(
        model.logprob("pump", ("the", "heat")) + 1.0
    )
    for context in [(), ("the",), ("sat",)]:  # not after "heat": no bonus
        assert biased.logprob("pump", context) == pytest.approx(model.logprob("pump", context))
    assert biased.logprob("heat", ("the",)) == pytest.approx(model.logprob("heat", ("the",)))
    # a phrase the model never saw gets its entry written in
    unseen = bias_model(model, [("cat", "pump")], 0.5)
    assert ("cat", "pump") in unseen.probs[1]
    assert unseen.logprob("pump", ("cat",)) == pytest.approx(model.logprob("pump", ("cat",)) + 1.0)
    assert unseen.logprob("sat", ("cat",)) == pytest.approx(model.logprob("sat", ("cat",)))


def test_words_outside_the_model_are_left_out_and_the_file_round_trips(tmp_path):
    model = estimate(SENTENCES, order=3)
    biased = bias_model(model, [("zorb",), ("heat", "zorb"), ()], 1.0)
    assert biased.probs == model.probs
    written = bias_model(model, [("heat", "pump")], 0.5).write_arpa(tmp_path / "lm.arpa")
    assert read_arpa(written).logprob("pump", ("heat",)) == pytest.approx(
        model.logprob("pump", ("heat",)) + 1.0, abs=1e-5
    )


def test_compiled_biasing_steers_the_native_search_like_the_graph(tmp_path):
    folder = tmp_path / "vocab"
    build_vocabulary(TEXTS, folder, order=3)
    add_words(folder, ["vax"], hot=False)
    tokenizer = load_vocabulary(folder).tokenizer
    heard = frames("the tax is next", tokenizer, {4: ("v", 5.5)})
    plain = lexicon_decoder(folder)
    native = lexicon_decoder(folder, bias=["vax"], bias_bonus=4.0, bias_mode="lm")
    graph = lexicon_decoder(folder, bias=["vax"], bias_bonus=4.0)
    assert plain.decode(heard)[0].text == "the tax is next"
    assert native.decode(heard)[0].text == graph.decode(heard)[0].text == "the vax is next"
    clear = frames("bread sit down", tokenizer)
    assert native.decode(clear)[0].text == "bread sit down"


def test_a_bonus_above_zero_is_shifted_out_for_kenlm_and_paid_back_per_word():
    model = estimate(SENTENCES, order=3)
    biased = bias_model(model, [("cat",)], 5.0)
    assert max(v for table in biased.probs for v in table.values()) > 0
    shifted, shift = without_positive_scores(biased)
    assert shift > 0 and max(v for table in shifted.probs for v in table.values()) < 0
    for context in [(), ("a",)]:
        for word in ("cat", "pump"):
            assert shifted.logprob(word, context) == pytest.approx(
                biased.logprob(word, context) - shift
            )
    assert without_positive_scores(model) == (model, 0.0)  # nothing to shift
