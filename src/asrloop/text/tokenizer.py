"""Character tokenizer for CTC, stored as a Hugging Face style ``vocab.json``.

Index 0 is the CTC blank, index 1 the word delimiter ``|`` (a space in text). The symbol set is
rebuilt from the corpus text every time the corpus changes (a vocabulary file reused from an
older corpus would silently keep old symbols); :meth:`CharTokenizer.extend` adds new symbols
at the end so trained output rows keep their indices.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from asrloop.errors import DataError

BLANK = "<blank>"
WORD_DELIMITER = "|"
VOCAB_FILE = "vocab.json"


class CharTokenizer:
    def __init__(self, symbols: list[str]):
        if symbols[:2] != [BLANK, WORD_DELIMITER]:
            raise ValueError(f"vocabulary must start with {BLANK!r}, {WORD_DELIMITER!r}")
        if len(set(symbols)) != len(symbols):
            raise ValueError("vocabulary has duplicate symbols")
        self.symbols = list(symbols)
        self.index = {symbol: i for i, symbol in enumerate(self.symbols)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharTokenizer:
        chars = sorted({char for text in texts for char in text if char != " "})
        return cls([BLANK, WORD_DELIMITER, *chars])

    @classmethod
    def load(cls, directory: str | Path) -> CharTokenizer:
        vocab = json.loads((Path(directory) / VOCAB_FILE).read_text())
        return cls([symbol for symbol, _ in sorted(vocab.items(), key=lambda item: item[1])])

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / VOCAB_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.index, indent=1, sort_keys=True) + "\n")
        return path

    def __len__(self) -> int:
        return len(self.symbols)

    @property
    def blank_id(self) -> int:
        return 0

    @property
    def alphabet(self) -> set[str]:
        """Characters a transcript may contain (space included)."""
        return {" ", *self.symbols[2:]}

    def unknown_chars(self, text: str) -> set[str]:
        return set(text) - self.alphabet

    def encode(self, text: str) -> list[int]:
        unknown = self.unknown_chars(text)
        if unknown:
            raise DataError(f"text has symbols outside the alphabet: {sorted(unknown)}")
        return [self.index[WORD_DELIMITER if char == " " else char] for char in text]

    def decode(self, ids: Iterable[int]) -> str:
        chars = [self.symbols[i] for i in ids if i != self.blank_id]
        return "".join(" " if c == WORD_DELIMITER else c for c in chars).strip()

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
        new = sorted({c for t in texts for c in t if c != " "} - set(self.symbols))
        for symbol in new:
            self.index[symbol] = len(self.symbols)
            self.symbols.append(symbol)
        return new
