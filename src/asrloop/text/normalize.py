"""Text normalisation shared by corpus, tokenizer, metrics and triage."""

from __future__ import annotations

import re

_KEEP = re.compile(r"[^a-z' ]+")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-case, keep letters, apostrophes and single spaces."""
    text = _KEEP.sub(" ", text.lower().replace("-", " "))
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    return normalize_text(text).split()
