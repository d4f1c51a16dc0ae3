"""The model-assisted label check: a transcript on the wrong clip is named; a model too weak to
judge names nobody."""

from __future__ import annotations

from asrloop.checks.labels_model import suspect_labels
from asrloop.corpus.manifest import Utterance
from asrloop.inference.batch import Prediction
from asrloop.inference.types import Transcription, WordTiming

SENTENCES = [
    "the council met on monday",
    "rain is expected in the north",
    "the bridge will reopen next week",
    "shares rose sharply in london",
    "the minister announced a new plan",
]


def prediction(clip: str, label: str, heard: str) -> Prediction:
    words = tuple(WordTiming(w, 0.0, 0.1, 0.9) for w in heard.split())
    return Prediction(Utterance(clip, f"{clip}.wav", 2.0, label), Transcription(words))


def test_a_swapped_transcript_is_named_and_near_misses_are_not():
    predictions = [prediction(f"c{i}", s, s) for i, s in enumerate(SENTENCES)]
    predictions[1] = prediction("c1", SENTENCES[1], "rain is expected in the nord")  # a slip
    predictions.append(prediction("swapped", SENTENCES[2], SENTENCES[3]))  # the wrong label
    named = suspect_labels(predictions, max_cer=0.5, max_share=0.3)
    assert [clip for clip, _ in named] == ["swapped"]
    assert "labelled 'the bridge will reopen next week'" in named[0][1]


def test_a_model_that_misses_everything_is_inconclusive():
    garbled = [prediction(f"c{i}", s, "zzz qqq") for i, s in enumerate(SENTENCES)]
    assert suspect_labels(garbled, max_cer=0.5, max_share=0.3) == []
    assert len(suspect_labels(garbled, max_cer=0.5, max_share=1.0)) == len(SENTENCES)
