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

from asrloop.errors import MissingInputError
from asrloop.faults import fault_point
from asrloop.fsutil import recover_dir, replace_dir
from asrloop.text.arpa import NGramModel, estimate, read_arpa
from asrloop.text.lexicon import build_lexicon, read_lexicon, spell, write_lexicon
from asrloop.text.normalize import normalize_text
from asrloop.text.tokenizer import CharTokenizer

WORDS_FILE = "words.txt"
LEXICON_FILE = "lexicon.txt"
LM_FILE = "lm.arpa"
HOTWORDS_FILE = "hotwords.txt"
LM_TEXT_FILE = "lm_text.txt"
VERSION_FILE = "version.json"


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
        return self.folder / LM_FILE

    @property
    def lexicon_path(self) -> Path:
        return self.folder / LEXICON_FILE

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
    lm_text = [*_read_lines(vocab.folder / LM_TEXT_FILE), *_sentences(sentences)]
    extra = [*(w for w, count in vocab.words.items() if count == 0), *new]
    hotwords = vocab.hotwords + [w for w in new if hot and w not in vocab.hotwords]
    settings = {key: vocab.version[key] for key in ("order", "method", "hotword_boost")}
    return _write(vocab.folder, lm_text, extra, hotwords, vocab.tokenizer, settings)


def load_vocabulary(folder: str | Path) -> Vocabulary:
    folder = Path(folder)
    recover_dir(folder)
    if not (folder / VERSION_FILE).exists():
        raise MissingInputError(f"{folder} is not a vocabulary folder (run `asrloop vocab build`)")
    tokenizer = CharTokenizer.load(folder)
    words = {}
    for line in _read_lines(folder / WORDS_FILE):
        word, count = line.split("\t")
        words[word] = int(count)
    return Vocabulary(
        folder=folder,
        words=words,
        lexicon=read_lexicon(folder / LEXICON_FILE, tokenizer),
        hotwords=_read_lines(folder / HOTWORDS_FILE),
        tokenizer=tokenizer,
        version=json.loads((folder / VERSION_FILE).read_text()),
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
    _write_lines(tmp / WORDS_FILE, [f"{word}\t{count}" for word, count in ranked])
    _write_lines(tmp / LM_TEXT_FILE, sentences)
    _write_lines(tmp / HOTWORDS_FILE, hotwords)
    write_lexicon(tmp / LEXICON_FILE, lexicon)
    model.write_arpa(tmp / LM_FILE)
    tokenizer.save(tmp)
    version = {
        "vocab_version": _content_hash(tmp, settings),
        "words": len(counts),
        "sentences": len(sentences),
        "hotwords": len(hotwords),
        "symbols": len(tokenizer),
        **settings,
    }
    (tmp / VERSION_FILE).write_text(json.dumps(version, indent=1, sort_keys=True) + "\n")
    fault_point("vocab.before_swap")
    replace_dir(tmp, folder)
    return version


def _content_hash(folder: Path, settings: dict) -> str:
    """Hash of the word list, LM text, hot words and LM settings: equal inputs, equal version."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for name in (WORDS_FILE, LM_TEXT_FILE, HOTWORDS_FILE):
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


def grown_new_words(corpus_root) -> list[str]:
    """Words that ``asrloop grow`` found missing from the vocabulary (they become hot words)."""
    words: list[str] = []
    for path in sorted(Path(corpus_root).rglob("new_words.txt")):
        words += _read_lines(path)
    return list(dict.fromkeys(words))


def run(cfg) -> dict:
    """``asrloop vocab build``: the vocabulary of the train split of every corpus shard."""
    from rich.console import Console
    from rich.table import Table

    from asrloop.corpus.manifest import iter_corpus

    texts = [row.text or "" for row in iter_corpus(cfg.paths.corpus, ["train"])]
    if not texts:
        raise MissingInputError(
            f"no train rows under {cfg.paths.corpus}: synthesize the corpus first"
        )
    version = build_vocabulary(
        texts,
        cfg.paths.vocab,
        order=int(cfg.vocab.order),
        method=str(cfg.vocab.method),
        hotwords=list(cfg.vocab.hotwords) + grown_new_words(cfg.paths.corpus),
        hotword_boost=float(cfg.vocab.hotword_boost),
        extra_words=list(cfg.vocab.extra_words),
    )
    table = Table(title=f"vocabulary → {cfg.paths.vocab}", show_header=False)
    for key, value in version.items():
        table.add_row(key, str(value))
    Console().print(table)
    return version
