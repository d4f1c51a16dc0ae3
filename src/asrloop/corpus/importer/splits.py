"""Splits for an imported corpus: the corpus's own where it has them, else whole speakers.

* A clip whose own split name (folder or file, read word by word: ``train-clean-100``) is one of
  ``corpus.importer.split_names`` keeps it.
* The rest is split by speaker: speakers in a seeded order fill test, then dev, to their share
  of clips; the others train. So no test or dev speaker is heard in training.
* With fewer than ``min_speakers`` speakers, clips are split by id instead, and the notes say
  that test speakers are then also training speakers.
* The regression set: a seeded share of the test clips (by id), unless the corpus has its own.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from asrloop.corpus.importer.clip import SourceClip
from asrloop.settings.corpus import ImporterSettings


@dataclass(frozen=True)
class SplitRules:
    """``corpus.importer`` split settings."""

    names: Mapping[str, tuple[str, ...]]  # asrloop split -> names a corpus uses for it
    dev_share: float
    test_share: float
    min_speakers: int
    regression_share: float
    seed: int

    @classmethod
    def of(cls, importer: ImporterSettings) -> SplitRules:
        """From ``corpus.importer``: split names lowered once, for matching word by word."""
        names = asdict(importer.split_names)
        by_speaker = importer.speaker_split
        return cls(
            {split: tuple(str(n).lower() for n in values) for split, values in names.items()},
            by_speaker.dev,
            by_speaker.test,
            by_speaker.min_speakers,
            importer.regression_share,
            importer.seed,
        )

    def own_split(self, name: str) -> str | None:
        """The asrloop split a corpus's split name means, read word by word; None if none."""
        words = set(re.split(r"[^a-z]+", name.lower()))
        for split, names in self.names.items():
            if words & set(names):
                return split
        return None


def _unit(seed: int, key: str) -> float:
    """A stable number in [0, 1) for ``key``."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _order(keys: Sequence[str], seed: int) -> list[str]:
    return sorted(keys, key=lambda k: _unit(seed, k))


def by_speaker(clips: Sequence[SourceClip], rules: SplitRules) -> tuple[dict[str, str], list[str]]:
    """Clip id -> split for clips without an own split; and notes for the report."""
    counts = Counter(c.speaker for c in clips if c.speaker)
    notes: list[str] = []
    if len(counts) < rules.min_speakers:
        notes.append(
            f"{len(clips)} clips of {len(counts)} speaker(s): split by clip id, so test and dev "
            "speakers are also heard in training"
        )
        out = {}
        for clip in clips:
            unit = _unit(rules.seed, clip.id)
            test, dev = unit < rules.test_share, unit < rules.test_share + rules.dev_share
            out[clip.id] = "test" if test else "dev" if dev else "train"
        return out, notes
    total = sum(counts.values())
    speaker_split: dict[str, str] = {}
    filled = Counter()
    for speaker in _order(list(counts), rules.seed):
        split = "train"
        for wanted, share in (("test", rules.test_share), ("dev", rules.dev_share)):
            if filled[wanted] == 0 or filled[wanted] < share * total:
                split = wanted
                break
        speaker_split[speaker] = split
        filled[split] += counts[speaker]
    unknown = [c for c in clips if not c.speaker]
    if unknown:
        notes.append(f"{len(unknown)} clips have no speaker: they go to train")
    return {c.id: speaker_split.get(c.speaker, "train") for c in clips}, notes


def assign_splits(
    clips: Sequence[SourceClip], rules: SplitRules
) -> tuple[dict[str, str], list[str]]:
    """Clip id -> asrloop split for every clip, and notes on how they were assigned."""
    own = {c.id: rules.own_split(c.split) for c in clips if c.split}
    unknown = sorted({c.split for c in clips if c.split and own[c.id] is None})
    notes = [
        f"corpus split {name!r} is not a known split name: split by speaker" for name in unknown
    ]
    rest = [c for c in clips if not own.get(c.id)]
    assigned, speaker_notes = by_speaker(rest, rules) if rest else ({}, [])
    splits = {**{k: v for k, v in own.items() if v}, **assigned}
    if "regression" not in splits.values():
        test = sorted(
            (i for i, s in splits.items() if s == "test"), key=lambda i: _unit(~rules.seed, i)
        )
        chosen = [i for i in test if _unit(~rules.seed, i) < rules.regression_share]
        if len(test) > 1:  # a tiny test split still gives one clip to each
            chosen = chosen[: len(test) - 1] or test[:1]
        splits.update({i: "regression" for i in chosen})
    return splits, notes + speaker_notes
