"""The term check: a term's word the lexicon beam search writes stays only where the acoustic
model, on its own, spells it; spelling distances and the nearest lexicon word."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from asrloop.config import compose
from asrloop.decode import LexiconDecoder, build_decoder
from asrloop.errors import ConfigError
from asrloop.inference.pyfunc import served_settings
from asrloop.settings import typed
from asrloop.text.sound_check import SoundCheck
from asrloop.text.sounds import sound_distance
from asrloop.text.spelling import edit_distance, nearest_word, spelling_distance
from asrloop.text.vocabulary import add_words, build_vocabulary, load_vocabulary
from tests.unit.test_context_graph import TEXTS, frames
from tests.unit.test_decode import lexicon_decoder


def test_edit_distance_counts_inserts_deletes_and_substitutions():
    assert edit_distance("", "") == 0
    assert edit_distance("vole", "vole") == 0
    assert edit_distance("vol", "vole") == edit_distance("vole", "vol") == 1
    assert edit_distance("vlleys", "valleys") == 1
    assert edit_distance("vlleys", "vole") == 3
    assert edit_distance("", "tax") == 3
    assert spelling_distance("vlleys", "vole") == 0.75
    assert spelling_distance("voe", "vole") == 0.25


def test_nearest_word_prefers_fewest_edits_then_length_then_spelling():
    words = ["valleys", "volley", "vole", "village"]
    assert nearest_word("vlleys", words) == "valleys"
    assert nearest_word("vole", words) == "vole"
    assert nearest_word("vale", ["vile", "vole"]) == "vile"  # a tie: alphabetical
    assert nearest_word("x", []) is None
    # only words fewer than `below` edits away
    assert nearest_word("vlleys", words, below=2) == "valleys"
    assert nearest_word("vlleys", words, below=1) is None
    assert nearest_word("vole", words, below=0) is None


@pytest.fixture
def vocab(tmp_path):
    folder = tmp_path / "vocab"
    build_vocabulary(TEXTS, folder, order=3)
    add_words(folder, ["vax"], hot=False)  # in the lexicon, never in the LM text
    return folder


def checked(folder, distance, nearer_word_wins=False, bonus=4.0) -> LexiconDecoder:
    """Biased hard towards the term, so the search writes it where the sound is ambiguous."""
    return lexicon_decoder(
        folder,
        bias=["vax"],
        bias_bonus=bonus,
        checked_terms=["vax"],
        max_spelling_distance=distance,
        nearer_word_wins=nearer_word_wins,
    )


def test_the_check_keeps_a_term_the_acoustics_spell_and_replaces_one_they_do_not(vocab):
    tokenizer = load_vocabulary(vocab).tokenizer
    # "tax", its first sound a little "v": the biased search writes the term
    heard = frames("the tax is next", tokenizer, {4: ("v", 5.5)})
    assert lexicon_decoder(vocab, bias=["vax"], bias_bonus=4.0).decode(heard)[0].text == (
        "the vax is next"
    )
    # the acoustic model alone spells "tax": one letter in three from the term
    assert checked(vocab, 0.5).decode(heard)[0].text == "the vax is next"
    strict = checked(vocab, 0.2).decode(heard)[0]
    assert strict.text == "the tax is next"  # the lexicon word nearest the spelling
    assert [w.word for w in strict.words] == ["the", "tax", "is", "next"]
    # within the distance, but the spelling is a lexicon word of its own: that word wins
    assert checked(vocab, 0.5, nearer_word_wins=True).decode(heard)[0].text == "the tax is next"
    # where the acoustics spell the term, even the strictest check keeps it
    said = frames("the vax is next", tokenizer)
    assert checked(vocab, 0.0, nearer_word_wins=True).decode(said)[0].text == "the vax is next"


def test_sound_distance_counts_sound_edits_per_sound_of_the_word():
    vax = ("v", "a", "k", "s")
    assert sound_distance(vax, vax) == 0.0
    assert sound_distance(("v", "a", "s"), vax) == 0.25  # one sound missing of four
    assert sound_distance(("b", "a", "k", "s"), vax) == 1 / 4  # a stop for a fricative
    assert sound_distance(("f", "a", "k", "s"), vax) == 0.5 / 4  # a fricative for a fricative
    assert sound_distance(("v", "ɛ", "l"), vax) == (0.5 + 1 + 1) / 4
    assert sound_distance((), vax) == 1.0


def test_a_spelling_that_sounds_like_the_term_supports_it_unless_a_word_sounds_nearer():
    sounds = SoundCheck("en", 0.25)
    assert sounds.units("vacs") == sounds.units("vax")  # two letters apart, no sound
    assert sounds.supports("vacs", "vax") and sounds.supports("vass", "vax")  # 0, then 0.25
    assert not sounds.supports("vel", "vax")  # "unveil" heard as "on vel": too far
    assert sounds.supports("backs", "vax")  # a stop for a fricative: 0.25
    assert not sounds.supports("backs", "vax", others=["tax", "backs"])  # but "backs" is nearer
    assert sounds.supports("vacs", "vax", others=["tax", "backs"])  # no word nearer than 0
    with pytest.raises(ConfigError, match=r"decode\.term_check\.language 'xx-nowhere'"):
        SoundCheck("xx-nowhere", 0.25)


def test_the_check_keeps_a_term_spelled_as_it_sounds(tmp_path):
    folder = tmp_path / "vocab"
    texts = ["pay the tax now", "keep the backs in", "a very vivid view", "the office"]
    build_vocabulary(texts, folder, order=3)
    add_words(folder, ["vax"], hot=False)
    tokenizer = load_vocabulary(folder).tokenizer
    # the acoustic model spells "vaks" (an "x" a close second on the last two letters)
    spelled = "pay the vaks now"
    at = spelled.index("ks")
    heard = frames(spelled, tokenizer, {at: ("x", 5.9), at + 1: ("x", 5.9)})

    def decoded(sound_distance: float) -> str:
        decoder = lexicon_decoder(
            folder,
            bias=["vax"],
            bias_bonus=4.0,
            checked_terms=["vax"],
            max_spelling_distance=0.5,
            max_sound_distance=sound_distance,
        )
        return decoder.decode(heard)[0].text

    assert decoded(0.0) == "pay the backs now"  # letters only: two edits in three, replaced
    assert decoded(0.25) == "pay the vax now"  # "vaks" says the term's sounds


def test_the_check_is_on_by_default_for_the_scenario_terms(vocab):
    settings = typed(compose([])).decode
    assert settings.term_check.enabled and settings.term_check.max_distance == 0.5
    assert settings.term_check.nearer_word_wins
    assert settings.term_check.max_sound_distance == 0.25
    assert settings.term_check.language == compose([]).corpus.language
    assert list(settings.term_check.terms) == list(compose([]).scenario.terms)
    tokenizer = load_vocabulary(vocab).tokenizer
    decoder = build_decoder(settings, tokenizer, vocab)
    assert decoder.checked == {w for t in settings.term_check.terms for w in t.split()} & set(
        decoder.lexicon
    )
    off = typed(compose(["decode.term_check.enabled=false"])).decode
    assert build_decoder(off, tokenizer, vocab).checked == set()


def test_a_version_registered_before_the_check_is_served_without_one():
    decode = OmegaConf.to_container(compose([]).decode, resolve=True)
    features = OmegaConf.to_container(compose([]).features, resolve=True)
    now, _ = served_settings({"decode": decode, "features": features})
    assert now.term_check.enabled and list(now.term_check.terms) == decode["term_check"]["terms"]
    assert now.term_check.max_sound_distance == 0.25
    letters_only = {k: v for k, v in decode["term_check"].items() if k != "max_sound_distance"}
    registered = {"decode": {**decode, "term_check": letters_only}, "features": features}
    then, _ = served_settings(registered)
    assert then.term_check.enabled and then.term_check.max_sound_distance == 0.0  # as registered
    older = {k: v for k, v in decode.items() if k not in ("term_check", "bias")}
    before, _ = served_settings({"decode": older, "features": features})
    assert not before.term_check.enabled and before.bias.bonus == 0.0
    assert now.bias.mode == "lm" and before.bias.mode == "graph"  # as each was registered
