"""The one text normaliser, table-driven: what real transcripts become, what is refused."""

from __future__ import annotations

import pytest

from asrloop.errors import ConfigError
from asrloop.metrics import wer
from asrloop.text.normalize import NormalizationError, normalize_text, normalize_transcript

ALPHABET = " abcdefghijklmnopqrstuvwxyz'"

NORMALIZED = [
    # (raw transcript, normalized)
    ("42 votes", "forty two votes"),
    ("HELLO, World!", "hello world"),
    ("Café au lait", "cafe au lait"),
    ("Naïve façade, Straße", "naive facade strasse"),
    ("It's the dogs' bone", "it's the dogs' bone"),
    ("\u2018Tis the season\u2019", "'tis the season'"),
    ("the 3rd and 21st time", "the third and twenty first time"),
    ("In 1999 and the 1990s", "in nineteen ninety nine and the nineteen nineties"),
    ("2,500 people", "two thousand five hundred people"),
    ("it costs $5.50", "it costs five dollars fifty"),
    ("£20 or €3", "twenty pounds or three euros"),
    ("up 50% at 3:30", "up fifty percent at three thirty"),
    ("at 10:05 or 7:00", "at ten oh five or seven o'clock"),
    ("pi is 3.14", "pi is three point one four"),
    ("rock & roll", "rock and roll"),
    ("COVID-19 -- again...", "covid nineteen again"),
    ('"Quoted" (aside) [x]; y: z?', "quoted aside x y z"),
    ("full-width １２", "full width twelve"),
    ("  many   spaces\tand\nlines ", "many spaces and lines"),
    ("a ' lone apostrophe", "a lone apostrophe"),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALIZED)
def test_strict_normalization(raw, expected):
    assert normalize_transcript(raw, ALPHABET) == expected


@pytest.mark.parametrize(("raw", "expected"), NORMALIZED)
def test_lenient_agrees_with_strict_on_writable_text(raw, expected):
    assert normalize_text(raw) == expected


REFUSED = [
    # (raw transcript, what the error names)
    ("emoji 😀 here", "😀"),
    ("Ελλάδα", "alphabet"),
    ("a ~ tag", "~"),
    ("...", "nothing left"),
    ("", "nothing left"),
]


@pytest.mark.parametrize(("raw", "named"), REFUSED)
def test_strict_refuses_what_it_cannot_write(raw, named):
    with pytest.raises(NormalizationError, match=named):
        normalize_transcript(raw, ALPHABET)


LENIENT = [
    ("emoji 😀 here", "emoji here"),  # no word for the symbol: dropped when comparing
    ("Ελλάδα", "ελλαδα"),  # other scripts are kept, never deleted
    ("a ~ tag", "a tag"),
]


@pytest.mark.parametrize(("raw", "expected"), LENIENT)
def test_lenient_keeps_letters_drops_wordless_symbols(raw, expected):
    assert normalize_text(raw) == expected


LANGUAGES = [
    ("de", "42 Grad, Straße", "zweiundvierzig grad straße"),
    ("fr", "Il a 42 ans, café", "il a quarante deux ans café"),
    ("es", "el 50%", "el cincuenta por ciento"),
]


@pytest.mark.parametrize(("lang", "raw", "expected"), LANGUAGES)
def test_languages_spell_numbers_and_keep_their_accents(lang, raw, expected):
    assert normalize_text(raw, lang) == expected


def test_unknown_language_is_a_config_error():
    with pytest.raises(ConfigError, match="xx"):
        normalize_text("1", "xx")


def test_normalizing_is_idempotent():
    for raw, _ in NORMALIZED:
        once = normalize_text(raw)
        assert normalize_text(once) == once


def test_references_and_hypotheses_meet_in_one_function():
    """A raw reference with digits and case scores 0 WER against the model's spelled output."""
    assert wer(["The 3rd vote: 42 Ayes!"], ["the third vote forty two ayes"]) == 0.0
    assert wer(["café"], ["cafe"]) == 0.0


def test_normalization_cache_answers_repeats_and_stays_bounded() -> None:
    from asrloop.text import normalize

    normalize._normalize_cached.cache_clear()
    text = "Results: 42 votes, the 3rd time -- café!"
    assert normalize_text(text) == normalize._normalize_uncached(text, "en", False)
    assert normalize_text(text) == "results forty two votes the third time cafe"
    assert normalize._normalize_cached.cache_info().hits == 1
    long_text = "Word " * 1000  # over CACHED_TEXT_CHARS: normalized, never cached
    assert normalize_text(long_text) == " ".join(["word"] * 1000)
    assert normalize._normalize_cached.cache_info().currsize == 1
    for _ in range(2):  # a refusal is raised every time, not remembered as a result
        with pytest.raises(NormalizationError):
            normalize_transcript("price ☃ rose", "abcdefghijklmnopqrstuvwxyz' ")
