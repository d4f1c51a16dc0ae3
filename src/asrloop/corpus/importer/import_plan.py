"""The import plan: which clips enter the corpus, with what text, in which split and shard.

Every clip the corpus lists either gets a place in a shard or is excluded with its origin (file
and row) and the reason: audio file missing, no transcript, text the normaliser cannot write in
the alphabet, an id seen before. Nothing is left out without a word.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from asrloop.corpus.importer.clip import FILE, SourceClip
from asrloop.corpus.importer.splits import SplitRules, assign_splits
from asrloop.text.normalize import NormalizationError, normalize_transcript

PLAN_VERSION = 1  # bump when the way shards are written changes: every shard is rebuilt
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Excluded:
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclass(frozen=True)
class PlannedClip:
    """A clip with its place in the corpus: a file-safe id, normalised text and split."""

    id: str
    source: SourceClip
    text: str | None  # None: a drop clip (its text, if known, is kept apart)
    split: str
    stamp: tuple[int, int] = (0, 0)  # size and mtime of the source file: a change rebuilds

    def key(self) -> list:
        s = self.source
        return [
            self.id,
            s.audio,
            s.kind,
            s.offset,
            s.duration,
            s.channel,
            self.text,
            self.split,
            s.speaker,
            list(self.stamp),
        ]


@dataclass(frozen=True)
class ImportShard:
    name: str
    clips: tuple[PlannedClip, ...]

    def digest(self) -> str:
        payload = json.dumps([PLAN_VERSION, *(c.key() for c in self.clips)], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class ImportPlan:
    clips: list[PlannedClip] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def shards(self, size: int) -> list[ImportShard]:
        """Clips grouped by split, ordered by id, ``size`` to a shard (``<split>-NNN``)."""
        out = []
        for split in sorted({c.split for c in self.clips}):
            clips = sorted((c for c in self.clips if c.split == split), key=lambda c: c.id)
            for k, start in enumerate(range(0, len(clips), size)):
                out.append(ImportShard(f"{split}-{k:03d}", tuple(clips[start : start + size])))
        return out


def safe_id(clip_id: str) -> str:
    return _UNSAFE.sub("-", clip_id).strip("-.") or "clip"


def _stamp(clip: SourceClip) -> tuple[int, int] | None:
    """(size, mtime) of a file source; None when the file is missing."""
    if clip.kind != FILE:
        return (0, 0)
    try:
        stat = os.stat(clip.audio)
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


def plan_import(
    clips: Sequence[SourceClip], alphabet: str, language: str, rules: SplitRules
) -> ImportPlan:
    plan = ImportPlan()
    seen: dict[str, str] = {}
    kept: list[tuple[SourceClip, str, str, tuple[int, int]]] = []
    for clip in clips:
        clip_id = safe_id(clip.id)
        if clip_id in seen:
            plan.excluded.append(
                Excluded(clip.origin, f"id {clip_id!r} already at {seen[clip_id]}")
            )
            continue
        seen[clip_id] = clip.origin
        stamp = _stamp(clip)
        if stamp is None:
            plan.excluded.append(Excluded(clip.origin, f"audio file not found: {clip.audio}"))
            continue
        if clip.text is None or not clip.text.strip():
            plan.excluded.append(Excluded(clip.origin, "no transcript"))
            continue
        try:
            text = normalize_transcript(clip.text, alphabet, language)
        except NormalizationError as error:
            plan.excluded.append(Excluded(clip.origin, str(error)))
            continue
        kept.append((clip, clip_id, text, stamp))
    splits, plan.notes = assign_splits([replace(c, id=i) for c, i, _, _ in kept], rules)
    plan.clips = [PlannedClip(i, c, t, splits[i], s) for c, i, t, s in kept]
    return plan
