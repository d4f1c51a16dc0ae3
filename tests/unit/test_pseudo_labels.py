"""Semi-supervised rows: only sure, reviewable clips become pseudo labels, marked as such, and
never a clip of the drop's held-out part (the gate's audio)."""

from pathlib import Path

from asrloop.corpus.drop import Drop
from asrloop.corpus.manifest import Utterance
from asrloop.inference.transcript import Transcript
from asrloop.inference.types import Transcription, WordTiming
from asrloop.loop.grow import shard_rows
from asrloop.loop.pseudo_labels import PSEUDO_LABELER, is_pseudo_label, pseudo_labels
from asrloop.settings.grow import PseudoLabelSettings

DROP = Drop("news-drop1", Path("drops/news-drop1"), Path("references.jsonl"), 0.5, 1234)
ON = PseudoLabelSettings(enabled=True, min_confidence=0.9, max_clips=1000)


def transcript(clip: str, confidences: list[float]) -> Transcript:
    words = tuple(WordTiming(f"w{k}", 0.0, 0.1, c) for k, c in enumerate(confidences))
    return Transcript(clip, f"{clip}.wav", 1.5, "v1", Transcription(words), "1", "v")


POOL = [transcript(f"drop-{i:05d}", [0.99, 0.95 if i % 3 else 0.5]) for i in range(60)]


def test_only_sure_clips_outside_the_queue_and_the_held_out_part():
    queued = {"drop-00001", "drop-00002"}
    rows = pseudo_labels(POOL, queued, DROP, ON)
    chosen = {row.id for row in rows}
    assert chosen, "some clips qualify"
    assert not any(DROP.is_holdout(clip) for clip in chosen)
    assert not chosen & queued
    assert all(int(clip[-5:]) % 3 for clip in chosen)  # a word at 0.5 disqualifies a clip
    expected = {
        t.id
        for t in POOL
        if int(t.id[-5:]) % 3 and t.id not in queued and not DROP.is_holdout(t.id)
    }
    assert chosen == expected
    assert all(
        row.approved and row.reviewer == PSEUDO_LABELER and is_pseudo_label(row) for row in rows
    )
    assert all(row.reference == row.hypothesis == "w0 w1" for row in rows)


def test_off_by_default_and_capped():
    assert pseudo_labels(POOL, set(), DROP, PseudoLabelSettings()) == []
    capped = PseudoLabelSettings(enabled=True, min_confidence=0.9, max_clips=3)
    assert len(pseudo_labels(POOL, set(), DROP, capped)) == 3


def test_pseudo_rows_are_named_and_marked_apart_in_the_shard():
    rows = pseudo_labels(POOL, set(), DROP, ON)[:2]
    clips = {
        r.id: Utterance(id=r.id, audio_filepath=f"{r.id}.wav", duration=1.5, text=None, voice="v1")
        for r in rows
    }
    written = shard_rows(rows, DROP, clips, kind="pseudo")
    assert [row.id for row, _ in written] == [f"news-drop1-pseudo-{r.id}" for r in rows]
    assert all(row.extra["provenance"]["pseudo_label"] is True for row, _ in written)
    reviewed = [r.replace(reviewer="ann") for r in rows]
    assert all(
        "pseudo_label" not in row.extra["provenance"]
        for row, _ in shard_rows(reviewed, DROP, clips)
    )
