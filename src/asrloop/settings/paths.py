"""``conf/paths``: where data, models and reports live (every path resolved at the root)."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import MISSING


@dataclass
class PathsSettings:
    root: str = MISSING
    data: str = MISSING
    corpus: str = MISSING
    base_corpus: str = MISSING
    grown_corpus: str = MISSING
    drops: str = MISSING
    references: str = MISSING
    vocab: str = MISSING
    reviews: str = MISSING
    serving: str = MISSING
    cache: str = MISSING
    models: str = MISSING
    reports: str = MISSING
    replaced: str = MISSING
