"""Look-alikes: sound units, how much a word says a term's sounds, the contrast clips chosen
and planned for a new word, and the probe's false alarms and round rows."""

from __future__ import annotations

from collections import Counter

import pytest

from asrloop.corpus.manifest import Utterance
from asrloop.inference.batch import Prediction
from asrloop.inference.types import Transcription, WordTiming
from asrloop.loop.lookalike_probe import false_alarm_rows, false_alarms, plan_probe, written_for
from asrloop.loop.lookalikes import (
    Lookalike,
    contrast_rows,
    espeak_phonemizer,
    find_contrast,
    lookalikes,
    plan_in_other_voices,
    unknown_words,
)
from asrloop.settings.common import NoiseSettings
from asrloop.settings.grow import ContrastSettings, GrowSynthesisSettings
from asrloop.text.sounds import contains_sounds, phoneme_units

VOICES = ["en-us+klatt2", "en-us+klatt4", "en-gb-x-rp+klatt2"]


def test_phoneme_units_keep_diphthongs_affricates_and_length_together():
    assert phoneme_units("vˈoʊl") == ("v", "oʊ", "l")
    assert phoneme_units("pˈiːt") == ("p", "iː", "t")
    assert phoneme_units("stˈɜːdʒən") == ("s", "t", "ɜː", "dʒ", "ə", "n")
    assert phoneme_units("hˈiːt pˈʌmp") == ("h", "iː", "t", "p", "ʌ", "m", "p")


def test_contains_sounds_scores_the_best_stretch_of_the_word():
    vole = ("v", "oʊ", "l")
    assert contains_sounds(vole, vole) == 1.0
    assert contains_sounds(vole, ("ʌ", "n", "v", "oʊ", "l", "d")) == 1.0  # inside a longer word
    # another vowel costs half a unit: "valleys" says v-a-l
    assert contains_sounds(vole, phoneme_units("vˈælɪz")) == pytest.approx(1 - 0.5 / 3)
    # a consonant of another class costs a whole unit: "vote"
    assert contains_sounds(vole, ("v", "oʊ", "t")) == pytest.approx(1 - 1 / 3)
    # a missing unit costs one: "owl" lacks the v
    assert contains_sounds(vole, ("aʊ", "l")) == pytest.approx(1 - 1.5 / 3)
    assert contains_sounds(vole, ("k", "æ", "t")) < 0.2  # only a vowel alike
    assert contains_sounds(("v", "oʊ", "l", "z"), ("k",)) == 0.0  # floored
    assert contains_sounds((), vole) == 0.0


def fake_phonemes(table: dict[str, str]):
    return lambda word: phoneme_units(table[word])


TABLE = {
    "vole": "vˈoʊl",
    "valleys": "vˈælɪz",
    "volunteers": "vˌɑːlʌntˈɪɹz",
    "vote": "vˈoʊt",
    "cat": "kˈæt",
    "novel": "nˈɑːvəl",
}


def test_lookalikes_closest_first_then_nearest_in_length_then_frequent():
    words = Counter({"valleys": 2, "volunteers": 9, "vote": 50, "cat": 40, "novel": 1, "vole": 3})
    found = lookalikes("vole", words, fake_phonemes(TABLE), 0.75, 10)
    assert [f.word for f in found] == ["valleys", "novel", "volunteers"]
    assert all(f.sounds_like == "vole" and f.similarity == pytest.approx(0.833) for f in found)
    assert [f.word for f in lookalikes("vole", words, fake_phonemes(TABLE), 0.6, 2)] == [
        "valleys",
        "novel",
    ]
    assert "vote" in [f.word for f in lookalikes("vole", words, fake_phonemes(TABLE), 0.6, 10)]


def row(n: int, text: str, voice: str = VOICES[0]) -> Utterance:
    return Utterance(f"train-{n:05d}", f"train-{n:05d}.wav", 2.0, text, voice, voice, "train")


def test_contrast_rows_take_the_lookalikes_in_turn_each_row_once():
    rows = [
        row(0, "the valleys flooded"),
        row(1, "valleys and novel ideas"),
        row(2, "a novel about valleys"),
        row(3, "a quiet day"),
        row(4, "the valleys again"),
    ]
    found = [Lookalike("valleys", "vole", 0.83), Lookalike("novel", "vole", 0.83)]
    chosen = contrast_rows(rows, found, 4, "seed")
    ids = [r.id for r, _ in chosen]
    assert len(ids) == len(set(ids)) == 4
    assert "train-00003" not in ids  # says no look-alike
    assert [f.word for _, f in chosen[:2]] == ["valleys", "novel"]  # in turn
    assert all(f.word in r.text.split() for r, f in chosen)
    assert contrast_rows(rows, found, 4, "seed") == chosen  # seeded
    assert len(contrast_rows(rows, found, 40, "seed")) == 4  # every saying row, once


def synthesis() -> GrowSynthesisSettings:
    return GrowSynthesisSettings(
        copies=0,
        voices=VOICES,
        rate_wpm=[150, 170],
        pitch=[40, 60],
        noise=NoiseSettings(prob=0.5, snr_db=[10, 20]),
        speed_perturb=[1.0],
        workers=1,
    )


def test_renditions_say_each_sentence_in_another_voice_than_its_own():
    rows = [row(n, "the valleys flooded", VOICES[n % 3]) for n in range(9)]
    plan = plan_in_other_voices("drop1-contrast", "drop/drop1", rows, synthesis())
    assert len(plan.clips) == 9
    for original, clip in zip(rows, plan.clips, strict=True):
        assert clip.voice != original.voice and clip.voice in VOICES
        assert clip.text == original.text and clip.split == "train"
        assert clip.id.startswith(f"drop1-contrast-{original.id}") and clip.source == "drop/drop1"


PHONEMES = {
    **TABLE,
    "the": "ðə",
    "flooded": "flˈʌdɪd",
    "a": "ɐ",
    "quiet": "kwˈaɪət",
    "day": "dˈeɪ",
    "and": "ænd",
    "ideas": "aɪdˈiəz",
    "about": "ɐbˈaʊt",
    "again": "ɐɡˈɛn",
}


def test_only_words_the_base_corpus_never_says_get_contrast():
    assert unknown_words(["heat pump", "peat", "nicola sturgeon"], {"heat", "pump", "nicola"}) == [
        "peat",
        "sturgeon",
    ]
    rows = [row(0, "the valleys flooded"), row(1, "a quiet day"), row(2, "a vole")]
    settings = ContrastSettings(clips=5, words=3, min_similarity=0.75)
    phonemize = fake_phonemes(PHONEMES)
    assert find_contrast(["vole"], rows, phonemize, settings, "s") == []  # the corpus says it
    chosen = find_contrast(["vole"], rows[:2], phonemize, settings, "s")
    assert [(r.id, f.word) for r, f in chosen] == [("train-00000", "valleys")]
    assert find_contrast(["vole"], rows[:2], phonemize, settings, "s", {"train-00000"}) == []


def test_written_for_names_what_was_said_where_the_term_was_written():
    assert written_for("in the valleys today", "in the vole today", "vole") == ["valleys"]
    assert written_for("a vole in the valleys", "a vole in the vole", "vole") == ["valleys"]
    assert written_for("a vole here", "a vole here", "vole") == []  # said: no false alarm
    assert written_for("the interview", "the in to vole", "vole") == ["interview"]
    assert written_for("the end", "the vole end", "vole") == [""]  # inserted over nothing
    assert written_for("eat a heat pump", "heat pump", "heat pump") == []
    assert written_for("the heap pumped", "the heat pump", "heat pump") == ["heap pumped"]


def heard(clip: str, reference: str, hypothesis: str) -> Prediction:
    words = tuple(WordTiming(w, 0, 0, 1) for w in hypothesis.split())
    return Prediction(Utterance(clip, f"{clip}.wav", 2.0, reference), Transcription(words))


def test_false_alarms_count_per_term_and_what_was_said():
    predictions = [
        heard("a", "in the valleys", "in the vole"),
        heard("b", "across the valleys", "across the vole"),
        heard("c", "a vole", "a vole"),
        heard("d", "beat it", "peat it"),
    ]
    found = false_alarms(predictions, ["vole", "peat"])
    assert found == {"vole": Counter({"valleys": 2}), "peat": Counter({"beat": 1})}
    assert false_alarms(predictions[2:3], ["vole"]) == {}


def test_a_round_says_each_false_alarm_word_in_fresh_sentences_first():
    rows = [row(n, f"sentence {n} about the valleys") for n in range(6)]
    rows += [row(10, "the interview went well"), row(11, "nothing here")]
    alarms = {"vole": Counter({"valleys": 2, "the interview": 1, "": 1})}
    probed = {rows[0].text, rows[1].text}
    chosen = false_alarm_rows(alarms, rows, 3, probed, "seed")
    texts = [r.text for r in chosen]
    assert len(texts) == 4 and "the interview went well" in texts  # its longest word
    assert sum("valleys" in t for t in texts) == 3 and not probed & set(texts)
    assert false_alarm_rows(alarms, rows, 3, probed, "seed") == chosen  # seeded
    # too few fresh sentences: the probe's own fill up
    assert len(false_alarm_rows(alarms, rows[:2] + rows[6:], 3, probed, "s")) == 3


def test_the_probe_never_says_a_contrast_sentence():
    rows = [row(n, f"the valleys {n}", VOICES[n % 3]) for n in range(12)]
    phonemize = fake_phonemes({**PHONEMES, **{str(n): "wʌn" for n in range(12)}})
    contrast = ContrastSettings(clips=4, words=3, min_similarity=0.75)
    probe = ContrastSettings(clips=6, words=3, min_similarity=0.6)
    trained = {r.id for r, _ in find_contrast(["vole"], rows, phonemize, contrast, "d1-contrast")}
    plan = plan_probe("d1", ["vole"], rows, phonemize, probe, contrast, synthesis())
    assert len(trained) == 4 and len(plan.clips) == 6
    assert not any(base in clip.id for clip in plan.clips for base in trained)
    assert all(clip.id.startswith("d1-probe-") for clip in plan.clips)


def test_espeak_hears_valleys_and_novel_in_vole():
    phonemize = espeak_phonemizer(["piper:joe", "en-us+klatt2"], "en")
    assert phonemize("vole") == ("v", "oʊ", "l")
    words = Counter({w: 1 for w in ["valleys", "novel", "cat", "table", "vote", "house"]})
    found = [f.word for f in lookalikes("vole", words, phonemize, 0.75, 10)]
    assert {"valleys", "novel"} <= set(found) and "cat" not in found and "house" not in found
