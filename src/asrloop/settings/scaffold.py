"""``conf/scaffold``: ``asrloop scenario new NAME --terms ...`` writes a starting scenario file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ScaffoldSettings:
    name: str | None = None  # the scenario's name (the file is conf/scenario/<name>.yaml)
    terms: str = ""  # the emerging terms, comma-separated ("word,two words")
    near_miss: str = ""  # words the terms sound like, comma-separated (false-alarm bait)
    output: str | None = None  # another file than conf/scenario/<name>.yaml
    overwrite: bool = False
