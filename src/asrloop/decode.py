"""CTC decoders behind one interface, chosen by config (``decode.type``).

``greedy``: best token per frame, repeats merged, blanks dropped (no word list).
``lexicon``: beam search constrained to the vocabulary's lexicon, scored with its n-gram LM
(torchaudio ``ctc_decoder`` on flashlight-text); hot words are boosted inside the LM. It can
only emit lexicon words, so an out-of-vocabulary term comes out as in-vocabulary look-alikes
until :func:`asrloop.text.vocabulary.add_words` adds it.

The tokenizer is the acoustic model's own (a checkpoint's blank, delimiter and letter case
included): the lexicon is spelled in its symbols before the search (:func:`respell`), and words
come out in the vocabulary's lower case.

Both take log-probabilities ``[B, T, V]`` over the tokenizer's symbols and valid lengths
``[B]`` and return one :class:`Hypothesis` per utterance, with per-word frame spans and
confidences (the mean posterior of a word's tokens at the frames where they are emitted).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch

from asrloop.errors import ConfigError, MissingInputError
from asrloop.progress import console
from asrloop.settings.decode import DecodeSettings
from asrloop.text.arpa import UNK
from asrloop.text.lexicon import read_lexicon, respell, write_lexicon
from asrloop.text.tokenizer import CharTokenizer
from asrloop.text.vocabulary import LEXICON_FILE, LM_FILE

LEXICON_OPTIONS = (
    "beam_size",
    "beam_threshold",
    "lm_weight",
    "word_score",
    "unk_score",
    "sil_score",
    "nbest",
)


@dataclass
class WordSpan:
    word: str
    start_frame: int  # frame of the word's first token
    end_frame: int  # frame of the word's last token (inclusive)
    confidence: float  # in [0, 1]


@dataclass
class Hypothesis:
    text: str = ""
    words: list[WordSpan] = field(default_factory=list)
    score: float = 0.0
    alternatives: list[str] = field(default_factory=list)  # the other n-best texts


class Decoder(Protocol):
    def decode(
        self, log_probs: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> list[Hypothesis]: ...


class GreedyDecoder:
    """Best path decoding: argmax per frame, CTC collapse, split words at ``|``."""

    def __init__(self, tokenizer: CharTokenizer):
        self.tokenizer = tokenizer

    def decode(
        self, log_probs: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> list[Hypothesis]:
        log_probs, sizes = _prepare(log_probs, lengths, len(self.tokenizer))
        best = log_probs.argmax(dim=-1)
        hypotheses = []
        for b, size in enumerate(sizes):
            tokens, frames = _collapse(best[b, :size].tolist(), self.tokenizer.blank_id)
            spans = _spans(tokens, frames, log_probs[b], self.tokenizer)
            hypotheses.append(Hypothesis(" ".join(s.word for s in spans), spans))
        return hypotheses


class LexiconDecoder:
    """Lexicon-constrained beam search with the vocabulary folder's lexicon and ARPA LM."""

    def __init__(
        self,
        tokenizer: CharTokenizer,
        vocab_dir: str | Path,
        *,
        beam_size: int,
        lm_weight: float,
        word_score: float,
        unk_score: float,
        sil_score: float,
        beam_threshold: float,
        nbest: int,
    ):
        """Settings as in ``conf/decode/lexicon_lm.yaml``."""
        from torchaudio.models.decoder import ctc_decoder

        folder = Path(vocab_dir)
        self.tokenizer = tokenizer
        # validated against the vocabulary's own symbols (reports bad lines), then spelled in
        # the acoustic model's
        written = read_lexicon(folder / LEXICON_FILE, CharTokenizer.load(folder))
        self.lexicon, lost = respell(written, tokenizer)
        if lost:
            console.print(
                f"[yellow]{len(lost)} lexicon words the model's tokens cannot spell are left "
                f"out: {', '.join(lost[:10])}"
            )
        lm = folder / LM_FILE
        with tempfile.TemporaryDirectory(prefix="asrloop-lexicon-") as tmp, _quiet_stderr():
            # KenLM prints a loading progress bar; flashlight reads the lexicon file here
            lexicon_file = write_lexicon(Path(tmp) / LEXICON_FILE, self.lexicon)
            self._decoder = ctc_decoder(
                lexicon=str(lexicon_file),
                tokens=list(tokenizer.symbols),
                lm=str(lm) if lm.exists() else None,
                nbest=int(nbest),
                beam_size=int(beam_size),
                beam_threshold=float(beam_threshold),
                lm_weight=float(lm_weight),
                word_score=float(word_score),
                unk_score=float(unk_score),
                sil_score=float(sil_score),
                blank_token=tokenizer.blank,
                sil_token=tokenizer.word_delimiter,
                unk_word=UNK,
            )

    def decode(
        self, log_probs: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> list[Hypothesis]:
        log_probs, sizes = _prepare(log_probs, lengths, len(self.tokenizer))
        hypotheses = []
        for b, size in enumerate(sizes):
            if size == 0:
                hypotheses.append(Hypothesis())
                continue
            results = self._decoder(log_probs[b : b + 1, :size].contiguous())[0]
            hypotheses.append(self._hypothesis(results, log_probs[b]))
        return hypotheses

    def _hypothesis(self, results: list, log_probs: torch.Tensor) -> Hypothesis:
        if not results:
            return Hypothesis()
        best = results[0]
        words = self._lexicon_words(best.words)
        frames = _decoder_frames(best.timesteps.tolist(), log_probs.shape[0])
        spans = _spans(best.tokens.tolist(), frames, log_probs, self.tokenizer)
        if [s.word for s in spans] != words:  # spelling and word list disagree: trust words
            spans = _whole_spans(words, spans, log_probs.shape[0])
        alternatives = [" ".join(self._lexicon_words(r.words)) for r in results[1:]]
        return Hypothesis(" ".join(words), spans, float(best.score), alternatives)

    def _lexicon_words(self, words: list[str]) -> list[str]:
        return [w for w in words if w in self.lexicon]


def build_decoder(
    decode: DecodeSettings, tokenizer: CharTokenizer, vocab_dir: str | Path | None = None
) -> Decoder:
    """The decoder named by ``decode.type`` (``greedy``, or ``lexicon`` with the options of
    :class:`~asrloop.settings.decode.LexiconDecodeSettings`)."""
    kind = decode.type
    if kind == "greedy":
        return GreedyDecoder(tokenizer)
    if kind == "lexicon":
        if vocab_dir is None:
            raise MissingInputError("the lexicon decoder needs a vocabulary folder")
        options = {key: getattr(decode, key) for key in LEXICON_OPTIONS}
        return LexiconDecoder(tokenizer, vocab_dir, **options)
    raise ConfigError(f"decode.type: unknown decoder {kind!r}; choose greedy or lexicon")


def _prepare(
    log_probs: torch.Tensor, lengths: torch.Tensor | None, symbols: int
) -> tuple[torch.Tensor, list[int]]:
    """float32 CPU log-softmax (idempotent on log-probs) and lengths clamped to [0, T]."""
    if log_probs.ndim != 3 or log_probs.shape[-1] != symbols:
        raise ValueError(f"log_probs must be [B, T, {symbols}], got {tuple(log_probs.shape)}")
    batch, frames = log_probs.shape[:2]
    log_probs = log_probs.detach().float().cpu()
    if frames:
        log_probs = torch.log_softmax(log_probs, dim=-1)
    if lengths is None:
        return log_probs.contiguous(), [frames] * batch
    sizes = [min(max(int(n), 0), frames) for n in lengths.tolist()]
    return log_probs.contiguous(), sizes


def _decoder_frames(timesteps: list[int], size: int) -> list[int]:
    """Frames of flashlight's tokens: its path starts with a silence node before frame 0 (and
    ends with one after the last frame), so each timestep is one past the frame it names."""
    return [min(max(step - 1, 0), size - 1) for step in timesteps]


def _collapse(path: list[int], blank: int) -> tuple[list[int], list[int]]:
    """CTC collapse of a frame path: the emitted tokens and the frame where each starts."""
    tokens, frames, previous = [], [], None
    for frame, token in enumerate(path):
        if token != previous and token != blank:
            tokens.append(token)
            frames.append(frame)
        previous = token
    return tokens, frames


def _spans(
    tokens: list[int], frames: list[int], log_probs: torch.Tensor, tokenizer: CharTokenizer
) -> list[WordSpan]:
    """Group emitted tokens into words at the delimiter; confidence from frame posteriors.
    Special tokens (``<s>``, ``<unk>``) write no text and are left out."""
    spans, chars, steps, posteriors = [], [], [], []
    delimiter = tokenizer.delimiter_id
    for token, frame in [*zip(tokens, frames, strict=True), (delimiter, -1)]:
        if token == delimiter:
            if chars:
                confidence = sum(posteriors) / len(posteriors)
                spans.append(WordSpan("".join(chars), steps[0], steps[-1], confidence))
            chars, steps, posteriors = [], [], []
            continue
        char = tokenizer.to_text(tokenizer.symbols[token])
        if not char:
            continue
        chars.append(char)
        steps.append(frame)
        posteriors.append(min(1.0, float(log_probs[frame, token].exp())))
    return spans


def _whole_spans(words: list[str], spans: list[WordSpan], frames: int) -> list[WordSpan]:
    """Fallback spans when tokens cannot be matched to words: the whole utterance each."""
    confidence = sum(s.confidence for s in spans) / len(spans) if spans else 0.0
    return [WordSpan(w, 0, max(frames - 1, 0), confidence) for w in words]


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence native writes to stderr (fd 2) for a moment; exceptions still propagate."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
