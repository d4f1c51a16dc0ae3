"""``conf/scenario``: the emerging terms, their sentences and the production drops.

Only ``name``, ``terms``, ``templates``, ``drops`` and the drop's ``size``, ``holdout_share``,
``voices`` and ``noise`` must be written; every other key has the default a scenario file may
leave out (no near-miss sentences, drop 1, its name and seed from the scenario, the corpus's
speaking rates). ``LAYOUT_HINTS`` turn an older file's layout into the fix, not a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from asrloop.settings.common import NoiseSettings


@dataclass
class DropContentsSettings:
    """What one production drop brings: each term's share of its clips, and near misses."""

    terms: dict[str, float] = MISSING
    near_miss: float = 0.0


@dataclass
class DropSettings:
    """The production drop of the current loop iteration (``index``)."""

    index: int = 1
    earlier: list[str] = field(default_factory=list)  # filled in by `asrloop params`
    name: str = "${scenario.name}-drop${.index}"
    seed: int = "${seed}"  # an interpolation, resolved to an int
    size: int = MISSING
    holdout_share: float = MISSING
    source: str = "synth"
    import_from: str | None = None
    replace: bool = False  # rewrite a drop already served/triaged/grown from (old one kept)
    voices: list[str] = MISSING
    rate_wpm: list[int] = "${corpus.rate_wpm}"  # the corpus's rates unless the drop has its own
    noise: NoiseSettings = field(default_factory=NoiseSettings)


@dataclass
class ScenarioSettings:
    name: str = MISSING
    terms: list[str] = MISSING
    pronunciations: dict[str, str] = field(default_factory=dict)
    templates: dict[str, list[str]] = MISSING
    near_miss: list[str] = field(default_factory=list)
    drops: list[DropContentsSettings] = MISSING
    drop: DropSettings = field(default_factory=DropSettings)


LAYOUT_HINTS = {
    "scenario.templates": (
        "templates maps each term to the sentences that say it, e.g. "
        '`templates: {<term>: ["<sentence>", ...]}` (an older layout gave one list of '
        "sentences for all terms: put them under their term)"
    ),
    "scenario.drop.term_share": (
        "a drop's contents moved to `drops`, one entry per drop (the last repeats), e.g. "
        "`drops: [{terms: {<term>: 0.4}, near_miss: 0.0}]`: remove scenario.drop.term_share"
    ),
    "scenario.drops": (
        "list what each drop brings, e.g. `drops: [{terms: {<term>: 0.4}, near_miss: 0.0}]` "
        "(each term's share of the drop's clips)"
    ),
}
