"""``conf/corpus`` with its subgroups ``corpus/text`` and ``corpus/importer``."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.common import NoiseSettings, SplitSizes


@dataclass
class CorpusTextSettings:
    """Sentence templates and the word lists (slots) that fill them."""

    templates: list[str] = MISSING
    slots: dict[str, list[str]] = MISSING


@dataclass
class SplitNames:
    """The corpus's own split names (read word by word) that map to each asrloop split."""

    train: list[str] = MISSING
    dev: list[str] = MISSING
    test: list[str] = MISSING
    regression: list[str] = MISSING


@dataclass
class SpeakerSplit:
    """Clips without a known split: shares by whole speakers."""

    dev: float = MISSING
    test: float = MISSING
    min_speakers: int = MISSING


@dataclass
class ImporterSettings:
    """``asrloop corpus import``: your corpus as shards."""

    format: str = MISSING
    path: str | None = None
    allow_shell_commands: bool = False
    workers: int = MISSING
    seed: int = MISSING
    split_names: SplitNames = field(default_factory=SplitNames)
    speaker_split: SpeakerSplit = field(default_factory=SpeakerSplit)
    regression_share: float = MISSING


@dataclass
class VoiceLists:
    train: list[str] = MISSING
    heldout: list[str] = MISSING
    neural: list[str] = field(default_factory=list)  # the test_neural split's voices (Piper)


@dataclass
class CorpusSettings:
    """The base corpus: where it comes from, its text and voices, split sizes and shards."""

    name: str = MISSING
    source: str = MISSING
    alphabet: str = MISSING
    language: str = MISSING
    seed: int = MISSING
    regression_seed: int = MISSING
    splits: SplitSizes = field(default_factory=SplitSizes)
    shard_size: int = MISSING
    min_words: int = MISSING
    max_words: int = MISSING
    workers: int = MISSING
    voices: VoiceLists = field(default_factory=VoiceLists)
    rate_wpm: list[int] = MISSING
    pitch: list[int] = MISSING
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    speed_perturb: list[float] = MISSING
    text: CorpusTextSettings = field(default_factory=CorpusTextSettings)
    importer: ImporterSettings = field(default_factory=ImporterSettings)
