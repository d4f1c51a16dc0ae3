"""The lexicon: each word spelled in the acoustic model's tokens, in flashlight's format.

One line per word: ``word<TAB>t o k e n s |``; the spelling ends with the word delimiter, so
the beam search decoder may only emit words whose spelling the model's tokens can produce.
Words are lower-case; their spelling is in the tokenizer's own symbols (upper-case letters and
its own delimiter for a wav2vec2-style checkpoint): :func:`respell` moves a lexicon to another
model's tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from asrloop.errors import DataError
from asrloop.text.tokenizer import CharTokenizer


class LexiconError(DataError):
    """A word or lexicon line the tokenizer cannot spell; names the file and line."""


def spell(word: str, tokenizer: CharTokenizer) -> list[str]:
    """A word's spelling in model tokens, ending with the word delimiter."""
    try:
        return [*tokenizer.spell(word), tokenizer.word_delimiter]
    except DataError as error:
        raise LexiconError(str(error)) from error


def build_lexicon(words: Iterable[str], tokenizer: CharTokenizer) -> dict[str, list[str]]:
    """Spell every word (sorted, duplicates dropped)."""
    return {word: spell(word, tokenizer) for word in sorted(set(words))}


def write_lexicon(path: str | Path, lexicon: Mapping[str, list[str]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{word}\t{' '.join(tokens)}\n" for word, tokens in lexicon.items()]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def read_lexicon(path: str | Path, tokenizer: CharTokenizer) -> dict[str, list[str]]:
    """Read and validate a lexicon; the first spelling of a word wins."""
    path = Path(path)
    symbols = set(tokenizer.symbols) - {tokenizer.blank}
    lexicon: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            word, tokens = _parse_line(line, f"{path}:{line_number}")
            unknown = [t for t in tokens if t not in symbols]
            if unknown:
                raise LexiconError(
                    f"{path}:{line_number}: word {word!r} uses symbols outside the "
                    f"tokenizer's symbols: {unknown}"
                )
            lexicon.setdefault(word, tokens)
    return lexicon


def _parse_line(line: str, where: str) -> tuple[str, list[str]]:
    fields = line.split()
    if len(fields) < 2:
        raise LexiconError(f"{where}: malformed line {line.rstrip()!r} (want word<TAB>tokens)")
    return fields[0], fields[1:]


def respell(
    lexicon: Mapping[str, list[str]], tokenizer: CharTokenizer
) -> tuple[dict[str, list[str]], list[str]]:
    """The lexicon in ``tokenizer``'s symbols: a spelling the tokenizer has is kept, any other
    is spelled anew from the word; returns (lexicon, words it cannot spell at all)."""
    symbols = set(tokenizer.symbols) - {tokenizer.blank}
    spelled, lost = {}, []
    for word, tokens in lexicon.items():
        if all(t in symbols for t in tokens) and tokens[-1] == tokenizer.word_delimiter:
            spelled[word] = tokens
            continue
        try:
            spelled[word] = spell(word, tokenizer)
        except LexiconError:
            lost.append(word)
    return spelled, lost
