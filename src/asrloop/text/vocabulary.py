"""The vocabulary of a corpus version: one folder, rebuilt whenever the corpus changes.

``words.txt``     word TAB count (count desc, then word; added words may count 0)
``lexicon.txt``   each word spelled in model tokens (flashlight format)
``lm.arpa``       word n-gram LM estimated in the project (:mod:`asrloop.text.arpa`)
``hotwords.txt``  words whose unigram is boosted in the LM
``lm_text.txt``   the normalised sentences the LM was estimated from
``vocab.json``    the character tokenizer of the same texts
``version.json``  content hash (``vocab_version``), sizes and LM settings

:func:`add_words` grows the word level (lexicon, LM, hot words) of an existing folder while
keeping ``vocab.json``, so a trained acoustic model decodes the new words without retraining.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from asrloop.artifacts import HOTWORDS, LEXICON, LM, LM_TEXT, VOCAB_VERSION, WORDS
from asrloop.errors import MissingInputError
from asrloop.faults import fault_point
from asrloop.fsutil import recover_dir, replace_dir
from asrloop.text.arpa import NGramModel, estimate, read_arpa
from asrloop.text.lexicon import build_lexicon, read_lexicon, spell, write_lexicon
from asrloop.text.normalize import normalize_text
from asrloop.text.tokenizer import CharTokenizer

LEXICON_FILE, LM_FILE = LEXICON, LM  # the names decode.py imports from here


@dataclass
class Vocabulary:
    """A loaded vocabulary folder (the LM is read on demand: it can be large)."""

    folder: Path
    words: dict[str, int]
    lexicon: dict[str, list[str]]
    hotwords: list[str]
    tokenizer: CharTokenizer
    version: dict

    @property
    def lm_path(self) -> Path:
        return self.folder / LM

    @property
    def lexicon_path(self) -> Path:
        return self.folder / LEXICON

    def language_model(self) -> NGramModel:
        return read_arpa(self.lm_path)


def build_vocabulary(
    texts: Iterable[str],
    out_dir: str | Path,
    order: int = 3,
    method: str = "kneser_ney",
    hotwords: Iterable[str] = (),
    hotword_boost: float = 2.0,
    extra_words: Iterable[str] = (),
) -> dict:
    """Build the vocabulary folder from training texts; returns the ``version.json`` content."""
    sentences = _sentences(texts)
    hot = _words_of(hotwords)
    extra = _words_of(extra_words)
    tokenizer = CharTokenizer.from_texts([*sentences, *extra, *hot])
    settings = {"order": order, "method": method, "hotword_boost": float(hotword_boost)}
    return _write(Path(out_dir), sentences, [*extra, *hot], hot, tokenizer, settings)


def add_words(
    out_dir: str | Path, words: Iterable[str], sentences: Iterable[str] = (), hot: bool = True
) -> dict:
    """Add words (and sentences that use them) to an existing vocabulary folder.

    The lexicon and LM are rebuilt with the same settings; the tokenizer is kept, so a word
    with a symbol the acoustic model cannot emit raises :class:`LexiconError`.
    """
    vocab = load_vocabulary(out_dir)
    new = _words_of(words)
    for word in new:
        spell(word, vocab.tokenizer)
    lm_text = [*_read_lines(vocab.folder / LM_TEXT), *_sentences(sentences)]
    extra = [*(w for w, count in vocab.words.items() if count == 0), *new]
    hotwords = vocab.hotwords + [w for w in new if hot and w not in vocab.hotwords]
    settings = {key: vocab.version[key] for key in ("order", "method", "hotword_boost")}
    return _write(vocab.folder, lm_text, extra, hotwords, vocab.tokenizer, settings)


def load_vocabulary(folder: str | Path) -> Vocabulary:
    folder = Path(folder)
    recover_dir(folder)
    if not (folder / VOCAB_VERSION).exists():
        raise MissingInputError(f"{folder} is not a vocabulary folder (run `asrloop vocab build`)")
    tokenizer = CharTokenizer.load(folder)
    words = {}
    for line in _read_lines(folder / WORDS):
        word, count = line.split("\t")
        words[word] = int(count)
    return Vocabulary(
        folder=folder,
        words=words,
        lexicon=read_lexicon(folder / LEXICON, tokenizer),
        hotwords=_read_lines(folder / HOTWORDS),
        tokenizer=tokenizer,
        version=json.loads((folder / VOCAB_VERSION).read_text()),
    )


def _write(
    folder: Path,
    sentences: list[str],
    extra: list[str],
    hotwords: list[str],
    tokenizer: CharTokenizer,
    settings: dict,
) -> dict:
    """Compute everything first (a bad word raises before any file changes), then write."""
    counts = Counter(word for sentence in sentences for word in sentence.split())
    counts.update(dict.fromkeys(extra, 0))
    lexicon = build_lexicon(counts, tokenizer)
    boost = dict.fromkeys(hotwords, settings["hotword_boost"])
    model = estimate(sentences, settings["order"], settings["method"], boost, vocabulary=counts)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _write_lines(tmp / WORDS, [f"{word}\t{count}" for word, count in ranked])
    _write_lines(tmp / LM_TEXT, sentences)
    _write_lines(tmp / HOTWORDS, hotwords)
    write_lexicon(tmp / LEXICON, lexicon)
    model.write_arpa(tmp / LM)
    tokenizer.save(tmp)
    version = {
        "vocab_version": _content_hash(tmp, settings),
        "words": len(counts),
        "sentences": len(sentences),
        "hotwords": len(hotwords),
        "symbols": len(tokenizer),
        **settings,
    }
    (tmp / VOCAB_VERSION).write_text(json.dumps(version, indent=1, sort_keys=True) + "\n")
    fault_point("vocab.before_swap")
    replace_dir(tmp, folder)
    return version


def _content_hash(folder: Path, settings: dict) -> str:
    """Hash of the word list, LM text, hot words and LM settings: equal inputs, equal version."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for name in (WORDS, LM_TEXT, HOTWORDS):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:12]


def _sentences(texts: Iterable[str]) -> list[str]:
    return [s for s in (normalize_text(t) for t in texts) if s]


def _words_of(phrases: Iterable[str]) -> list[str]:
    """The distinct words of some phrases, in order of first use."""
    return list(dict.fromkeys(w for phrase in phrases for w in normalize_text(phrase).split()))


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
