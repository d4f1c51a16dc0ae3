"""Text normalisation shared by corpus, tokenizer, metrics, triage and review.

Two entry points:

* :func:`normalize_text`: lenient, for comparing texts (metrics, matching phrases): lower-case,
  keep letters, apostrophes and single spaces;
* :func:`normalize_transcript`: strict, for text that becomes training data (imported
  transcripts, reviewer corrections): the same normalisation, but text that would lose letters
  or digits raises :class:`NormalizationError` instead of being silently cut.
"""

from __future__ import annotations

import re

from asrloop.errors import DataError

_KEEP = re.compile(r"[^a-z' ]+")
_SPACES = re.compile(r"\s+")
_MEANINGFUL = re.compile(r"[^\W_]", re.UNICODE)  # letters and digits of any script


class NormalizationError(DataError):
    """Text that cannot be written in the model's alphabet; the message says what is left."""


def normalize_text(text: str) -> str:
    """Lower-case, keep letters, apostrophes and single spaces."""
    text = _KEEP.sub(" ", text.lower().replace("-", " "))
    return _SPACES.sub(" ", text).strip()


def normalize_transcript(text: str, alphabet: str) -> str:
    """:func:`normalize_text`, refusing text whose letters or digits the alphabet cannot hold."""
    normalized = normalize_text(text)
    allowed = set(alphabet)
    lost = sorted(
        {char for char in text.lower() if _MEANINGFUL.match(char) and char not in allowed}
    )
    if lost:
        raise NormalizationError(f"{text!r}: cannot write {''.join(lost)!r} in the alphabet")
    if not normalized:
        raise NormalizationError(f"{text!r}: nothing left to transcribe")
    return normalized


def words(text: str) -> list[str]:
    return normalize_text(text).split()
