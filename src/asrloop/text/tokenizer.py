"""Character tokenizer for CTC, stored as a Hugging Face style ``vocab.json``.

The project's own vocabulary has the CTC blank ``<blank>`` at index 0 and the word delimiter
``|`` (a space in text) at 1. The symbol set is rebuilt from the corpus text every time the
corpus changes (a vocabulary file reused from an older corpus would silently keep old symbols);
:meth:`CharTokenizer.extend` adds new symbols at the end so trained output rows keep their
indices.

A pretrained checkpoint's vocabulary is read as it is: its blank is the tokenizer's pad token
(``<pad>`` at 0 for wav2vec2-style checkpoints) and its delimiter its ``word_delimiter_token``,
both from ``tokenizer_config.json`` (or ``special_tokens_map.json``); special tokens such as
``<s>`` or ``<unk>`` stay in the inventory but never become text. Text is normalised the same
way everywhere: transcripts are lower-case, and a vocabulary whose letters are all upper-case
(wav2vec2-base-960h) is written to in upper case and read back in lower case.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from asrloop.errors import DataError

BLANK = "<blank>"
WORD_DELIMITER = "|"
UNK = "<unk>"
VOCAB_FILE = "vocab.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
SPECIAL_TOKENS_MAP = "special_tokens_map.json"
SPECIAL_ROLES = ("unk_token", "bos_token", "eos_token")


class CharTokenizer:
    def __init__(
        self,
        symbols: list[str],
        blank: str = BLANK,
        word_delimiter: str = WORD_DELIMITER,
        special: dict[str, str] | None = None,
    ):
        """``symbols`` in index order; ``special``: other roles (unk, bos, eos) by token."""
        if len(set(symbols)) != len(symbols):
            raise ValueError("vocabulary has duplicate symbols")
        for role, token in (("blank", blank), ("word delimiter", word_delimiter)):
            if token not in symbols:
                raise ValueError(f"vocabulary has no {role} token {token!r}")
        self.symbols = list(symbols)
        self.blank, self.word_delimiter = blank, word_delimiter
        self.special = {k: v for k, v in (special or {}).items() if v}
        self.index = {symbol: i for i, symbol in enumerate(self.symbols)}
        letters = [s for s in self._units() if s.isalpha()]
        # a vocabulary of upper-case letters only: text goes in upper, comes out lower
        self.upper = bool(letters) and all(s.isupper() for s in letters)

    def _units(self) -> list[str]:
        """Symbols that are text: single characters other than the blank and the delimiter."""
        return [
            s for s in self.symbols if len(s) == 1 and s not in (self.blank, self.word_delimiter)
        ]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharTokenizer:
        chars = sorted({char for text in texts for char in text if char != " "})
        return cls([BLANK, WORD_DELIMITER, *chars])

    @classmethod
    def load(cls, directory: str | Path) -> CharTokenizer:
        """The tokenizer of a model or vocabulary folder (asrloop's or a checkpoint's)."""
        directory = Path(directory)
        vocab = json.loads((directory / VOCAB_FILE).read_text())
        symbols = [symbol for symbol, _ in sorted(vocab.items(), key=lambda item: item[1])]
        roles = {}
        for name in (SPECIAL_TOKENS_MAP, TOKENIZER_CONFIG):  # the tokenizer config wins
            if (directory / name).exists():
                settings = json.loads((directory / name).read_text())
                roles.update({k: _token(v) for k, v in settings.items() if _token(v)})
        blank = roles.get("pad_token") or (BLANK if BLANK in vocab else symbols[0])
        delimiter = roles.get("word_delimiter_token", WORD_DELIMITER)
        special = {k: roles[k] for k in SPECIAL_ROLES if roles.get(k) in vocab}
        return cls(symbols, blank, delimiter, special)

    def save(self, directory: str | Path) -> Path:
        """``vocab.json`` and a ``tokenizer_config.json`` that transformers'
        ``Wav2Vec2CTCTokenizer`` reads (blank = pad token)."""
        path = Path(directory) / VOCAB_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.index, indent=1, sort_keys=True) + "\n")
        settings = {
            "tokenizer_class": "Wav2Vec2CTCTokenizer",
            "pad_token": self.blank,
            "word_delimiter_token": self.word_delimiter,
            "unk_token": self.special.get("unk_token", UNK),
            "bos_token": self.special.get("bos_token"),
            "eos_token": self.special.get("eos_token"),
            "do_lower_case": self.upper,  # transformers upper-cases input text when set
        }
        (path.parent / TOKENIZER_CONFIG).write_text(json.dumps(settings, indent=1) + "\n")
        return path

    def __len__(self) -> int:
        return len(self.symbols)

    @property
    def blank_id(self) -> int:
        return self.index[self.blank]

    @property
    def delimiter_id(self) -> int:
        return self.index[self.word_delimiter]

    def to_text(self, symbol: str) -> str:
        """What a symbol writes in a transcript: a space for the delimiter, nothing for the
        blank and special tokens, a lower-case letter for an upper-case vocabulary."""
        if symbol == self.word_delimiter:
            return " "
        if len(symbol) != 1 or symbol == self.blank:
            return ""
        return symbol.lower() if self.upper else symbol

    def to_symbol(self, char: str) -> str:
        """The symbol of a transcript character (the inverse of :meth:`to_text`)."""
        if char == " ":
            return self.word_delimiter
        return char.upper() if self.upper else char

    @property
    def alphabet(self) -> set[str]:
        """Characters a transcript may contain (space included)."""
        return {" ", *(self.to_text(s) for s in self._units())}

    def unknown_chars(self, text: str) -> set[str]:
        return set(text) - self.alphabet

    def encode(self, text: str) -> list[int]:
        unknown = self.unknown_chars(text)
        if unknown:
            raise DataError(f"text has symbols outside the alphabet: {sorted(unknown)}")
        return [self.index[self.to_symbol(char)] for char in text]

    def spell(self, word: str) -> list[str]:
        """A word's symbols (no delimiter); raises :class:`DataError` for foreign symbols."""
        unknown = self.unknown_chars(word) | ({" "} & set(word))
        if not word or unknown:
            raise DataError(f"word {word!r} has symbols outside the tokenizer: {sorted(unknown)}")
        return [self.to_symbol(char) for char in word]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.to_text(self.symbols[i]) for i in ids).strip()

    def ctc_collapse(self, ids: Iterable[int]) -> list[int]:
        """Greedy CTC collapse: merge repeats, drop blanks."""
        out, previous = [], None
        for i in ids:
            if i != previous and i != self.blank_id:
                out.append(i)
            previous = i
        return out

    def extend(self, texts: Iterable[str]) -> list[str]:
        """Append symbols that appear in ``texts`` but not yet in the vocabulary; return them."""
        chars = {c for t in texts for c in t if c != " "} - self.alphabet
        new = sorted({self.to_symbol(c) for c in chars} - set(self.symbols))
        for symbol in new:
            self.index[symbol] = len(self.symbols)
            self.symbols.append(symbol)
        return new


def _token(value) -> str | None:
    """A token as tokenizer files store it: a string, or an AddedToken dict with ``content``."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None
