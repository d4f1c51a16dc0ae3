"""A small real review queue for the review tests: espeak-ng clips and the rows triage writes."""

from __future__ import annotations

from pathlib import Path

from asrloop.audio.io import write_audio
from asrloop.corpus.synthesis import VoiceSpec, synthesize
from asrloop.loop.review_queue import ReviewItem, write_queue

# (clip, voice, what was said, what the model heard, word confidences, why it was chosen)
CLIPS = [
    ("drop-00001", "en-us+klatt2", "the brexit deal was signed", "the bread sit deal was signed",
     "0.95 0.41 0.38 0.90 0.92 0.97", "flagged: bread sit"),
    ("drop-00002", "en+klatt4", "brexit talks resumed in brussels",
     "break it talks resumed in brussels", "0.52 0.47 0.93 0.91 0.88 0.62", "random"),
    ("drop-00003", "en-us+klatt2", "the council met on monday", "the council met on monday",
     "0.97 0.96 0.95 0.94 0.93", "least confident (0.55)"),
    ("drop-00004", "en+klatt4", "farmers fear brexit", "farmers fear bread sit",
     "0.91 0.88 0.35 0.40", "flagged: bread sit; random"),
]  # fmt: skip
ALPHABET = " abcdefghijklmnopqrstuvwxyz'"


def make_queue(folder: Path, audio_dir: Path) -> list[ReviewItem]:
    """Synthesize the clips into ``audio_dir`` and write the pending queue into ``folder``."""
    audio_dir.mkdir(parents=True, exist_ok=True)
    items = []
    for clip, voice, said, heard, confidences, reason in CLIPS:
        path = audio_dir / f"{clip}.wav"
        if not path.exists():
            write_audio(path, synthesize(said, VoiceSpec(voice)))
        mean = round(sum(map(float, confidences.split())) / len(confidences.split()), 4)
        items.append(
            ReviewItem(
                id=clip,
                reason=reason,
                hypothesis=heard,
                reference=heard,
                voice=voice,
                confidence=mean,
                audio_filepath=str(path),
                word_confidence=confidences,
            )
        )
    write_queue(folder, items)
    return items
