"""Grow until learned: the validation split, what a term is heard as, and the round's clips."""

from __future__ import annotations

from collections import Counter

from asrloop.corpus.manifest import Utterance
from asrloop.inference.batch import Prediction
from asrloop.inference.types import Transcription, WordTiming
from asrloop.loop.grow import validation_split
from asrloop.loop.grow_rounds import (
    Shortfall,
    plan_round,
    replace_term,
    shortfalls,
    written_instead,
)
from asrloop.loop.review_queue import ReviewItem
from asrloop.settings.common import NoiseSettings
from asrloop.settings.grow import GrowRoundSettings, GrowSynthesisSettings

VOICING = GrowSynthesisSettings(
    copies=0,
    voices=["en-us+klatt2", "en+klatt4", "en-gb-scotland+klatt4", "en-029+klatt3"],
    rate_wpm=[150, 180],
    pitch=[40, 60],
    noise=NoiseSettings(prob=0.5, snr_db=[10, 20]),
    speed_perturb=[0.9, 1.0, 1.1],
    workers=1,
)


PLACES = ["york", "leeds", "hull", "bath", "ely"]


def predictions(pairs) -> list[Prediction]:
    out = []
    for i, (ref, hyp) in enumerate(pairs):
        row = Utterance(f"c{i}", f"c{i}.wav", 3.0, ref)
        out.append(
            Prediction(row, Transcription(tuple(WordTiming(w, 0, 0, 1) for w in hyp.split())))
        )
    return out


def test_written_instead_finds_the_words_aligned_to_each_occurrence():
    assert written_instead("the zorb bog was dry", "the torb bog was dry", "zorb") == ["torb"]
    assert written_instead("a kelp vat in town", "a help vat in town", "kelp vat") == ["help vat"]
    # a compound heard as two known words is one span, not a substitution plus an insertion
    assert written_instead("he sold plumbase stock", "he sold plum base stock", "plumbase") == [
        "plum base"
    ]
    assert written_instead("the zorb and the zorb", "the zorb and the", "zorb") == [""]
    assert written_instead("the zorb bog", "the zorb bog", "zorb") == []


def test_shortfalls_measure_each_term_and_name_what_was_written_instead():
    pairs = [
        ("the zorb bog", "the torb bog"),
        ("a zorb fire", "a torb fire"),
        ("zorb is wet", "zorb is wet"),
        ("dry zorb here", "dry sorb here"),
        ("a kelp vat", "a kelp vat"),
        ("the kelp vat", "the kelp vat"),
        ("one kelp vat", "one kelp vat"),
        ("a rare word", "a rare word"),
    ]
    recall, short = shortfalls(predictions(pairs), ["zorb", "kelp vat", "quib"], 0.95, 3)
    assert recall == {"zorb": 0.25, "kelp vat": 1.0}  # quib: never said, not measured
    (zorb,) = short
    assert zorb.term == "zorb" and zorb.support == 4
    assert zorb.confusions == ("torb", "sorb")  # most frequent first
    assert abs(zorb.deficit - (0.95 - 0.25) / 0.95) < 1e-9


def test_a_term_with_too_few_validation_clips_is_not_measured():
    recall, short = shortfalls(predictions([("the zorb", "the torb")] * 2), ["zorb"], 0.95, 3)
    assert recall == {} and short == []


def test_confusions_that_say_another_term_are_not_contrasted():
    pairs = [("the zorb", "the kelp")] * 3
    _, (short,) = shortfalls(predictions(pairs), ["zorb", "kelp"], 0.95, 3)
    assert short.confusions == ()


def test_replace_term_swaps_whole_word_sequences_only():
    assert replace_term("the kelp vat and kelpie", "kelp vat", "help vat") == (
        "the help vat and kelpie"
    )
    assert replace_term("zorb zorbs zorb", "zorb", "torb") == "torb zorbs torb"


def test_round_clips_follow_each_terms_deficit():
    sentences = {
        "zorb": [(f"s{i}", f"the zorb bog of {w}") for i, w in enumerate(PLACES)],
        "kelp vat": [("k1", "a kelp vat in town"), ("k2", "the kelp vat is full")],
    }
    short = [
        Shortfall("zorb", 0.0, 10, 1.0, ("torb",)),
        Shortfall("kelp vat", 0.71, 7, 0.25, ()),
    ]
    amounts = GrowRoundSettings(renditions=40, contrastive=0.5)
    plan = plan_round("d1-round1", "grown/d1", short, sentences, amounts, VOICING)
    texts = Counter()
    for clip in plan.clips:
        kind = "zorb" if "zorb" in clip.text else "torb" if "torb" in clip.text else "kelp vat"
        texts[kind] += 1
        assert clip.split == "train" and clip.source == "grown/d1"
        assert clip.voice in VOICING.voices
    # deficit 1: 40 renditions and 20 contrastive; deficit 0.25: 10, no confusion to contrast
    assert texts == {"zorb": 40, "torb": 20, "kelp vat": 10}
    assert len({c.id for c in plan.clips}) == len(plan.clips)
    assert all(c.id.startswith("d1-round1-") for c in plan.clips)
    # the contrastive sentences say the look-alike where the term stood
    assert {c.text for c in plan.clips if "torb" in c.text} == {
        f"the torb bog of {w}" for w in PLACES
    }
    # the same inputs give the same plan (a rerun after a kill renders the same shard)
    assert plan == plan_round("d1-round1", "grown/d1", short, sentences, amounts, VOICING)


def test_a_term_without_training_sentences_gets_no_clips():
    short = [Shortfall("zorb", 0.0, 10, 1.0, ("torb",))]
    amounts = GrowRoundSettings(renditions=40, contrastive=0.5)
    assert plan_round("r", "grown/d", short, {}, amounts, VOICING).clips == ()


def test_the_validation_split_keeps_a_share_of_each_terms_clips():
    items = [ReviewItem(f"c{i}", "approved", reference=f"the zorb story {i}") for i in range(10)]
    items += [ReviewItem(f"k{i}", "approved", reference=f"a kelp vat {i}") for i in range(4)]
    items += [ReviewItem(f"n{i}", "approved", reference=f"plain news {i}") for i in range(6)]
    train, held = validation_split(items, ["zorb", "kelp vat"], 0.2, "drop1")
    assert sum("zorb" in i.reference for i in held) == 2  # 20 % of 10
    assert sum("kelp" in i.reference for i in held) == 0  # 20 % of 4 rounds down to none
    assert all("news" in i.reference for i in train if i.id.startswith("n"))
    assert {i.id for i in train} | {i.id for i in held} == {i.id for i in items}
    assert not {i.id for i in train} & {i.id for i in held}
    again, _ = validation_split(list(reversed(items)), ["zorb", "kelp vat"], 0.2, "drop1")
    assert {i.id for i in again} == {i.id for i in train}  # the same pick, in any order
