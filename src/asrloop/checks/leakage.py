"""Duplicates and leakage: the same audio twice, the same sentence and voice twice, a test or
regression sentence or clip also in train, a held-out voice in train."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from asrloop.checks.corpus import Clip, CorpusUnderTest
from asrloop.checks.report import Finding, findings_if
from asrloop.corpus.manifest import EVAL_SPLITS
from asrloop.text.normalize import normalize_text


def _groups(clips: Iterable[Clip], key: Callable[[Clip], object]) -> list[list[Clip]]:
    """Groups of clips sharing a key, only those with at least two clips."""
    groups: dict[object, list[Clip]] = defaultdict(list)
    for clip in clips:
        groups[key(clip)].append(clip)
    return [group for group in groups.values() if len(group) > 1]


def _group_rows(groups: list[list[Clip]]) -> list[str]:
    """Each duplicated clip, naming the first clip of its group."""
    return [f"{c.ref}: same as {g[0].ref}" for g in groups for c in g[1:]]


def check_duplicate_audio(corpus: CorpusUnderTest) -> list[Finding]:
    groups = _groups(corpus.decoded(), lambda c: c.audio.digest)
    return findings_if(
        "duplicates.audio", "error", "{n} clips repeat another clip's audio", _group_rows(groups)
    )


def check_duplicate_sentence_voice(corpus: CorpusUnderTest) -> list[Finding]:
    groups = _groups(corpus.clips, lambda c: (normalize_text(c.row.text or ""), c.row.voice))
    return findings_if(
        "duplicates.sentence_voice",
        "warning",
        "{n} clips repeat another clip's sentence with the same voice",
        _group_rows(groups),
    )


def _leaks(
    corpus: CorpusUnderTest, key: Callable[[Clip], str], splits: tuple[str, ...] = EVAL_SPLITS
) -> list[str]:
    """Clips of ``splits`` whose key (never empty) a train clip shares, naming both."""
    train: dict[str, Clip] = {}
    for clip in corpus.split("train"):
        train.setdefault(key(clip), clip)
    train.pop("", None)
    return [
        f"{train[key(c)].ref}: {c.row.split} row {c.ref}"
        for c in corpus.split(*splits)
        if key(c) in train
    ]


def check_sentence_leakage(corpus: CorpusUnderTest) -> list[Finding]:
    leaks = _leaks(corpus, lambda c: normalize_text(c.row.text or ""))
    return findings_if(
        "leakage.sentence", "error", "{n} test or regression sentences are also in train", leaks
    )


def check_dev_leakage(corpus: CorpusUnderTest) -> list[Finding]:
    """A dev sentence also in train makes dev scores (and the best checkpoint) look better."""
    leaks = _leaks(corpus, lambda c: normalize_text(c.row.text or ""), ("dev",))
    return findings_if(
        "leakage.dev_sentence", "error", "{n} dev sentences are also in train", leaks
    )


def check_clip_leakage(corpus: CorpusUnderTest) -> list[Finding]:
    leaks = _leaks(corpus, lambda c: c.audio.digest)
    return findings_if(
        "leakage.clip", "error", "{n} test or regression clips are also in train", leaks
    )


def check_voice_leakage(corpus: CorpusUnderTest) -> list[Finding]:
    heldout = set(corpus.rules.heldout_voices)
    bad = [f"{c.ref}: {c.row.voice}" for c in corpus.split("train") if c.row.voice in heldout]
    return findings_if("leakage.voice", "error", "{n} train clips use a held-out voice", bad)


def check_test_voices(corpus: CorpusUnderTest) -> list[Finding]:
    """The test split measures unseen voices: a training voice there hides overfitting. A clip
    with no voice or speaker (an imported corpus may not name them) cannot be compared."""
    trained = set(corpus.rules.train_voices) | {c.row.voice for c in corpus.split("train")}
    trained.discard("")
    tested = corpus.split("test", "test_neural")
    bad = [f"{c.ref}: {c.row.voice}" for c in tested if c.row.voice in trained]
    return findings_if(
        "leakage.test_voice", "error", "{n} test clips use a voice heard in training", bad
    )
