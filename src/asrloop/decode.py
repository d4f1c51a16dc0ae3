"""CTC decoders behind one interface, chosen by config (``decode.type``).

``greedy``: best token per frame, repeats merged, blanks dropped (no word list).
``lexicon``: beam search constrained to the vocabulary's lexicon, scored with its n-gram LM
(torchaudio ``ctc_decoder`` on flashlight-text); hot words are boosted inside the LM. It can
only emit lexicon words, so an out-of-vocabulary term comes out as in-vocabulary look-alikes
until :func:`asrloop.text.vocabulary.add_words` adds it. With ``bias`` phrases (terms, names),
a context graph (:mod:`asrloop.text.context_graph`) rides on the LM inside the search
(:class:`BiasedLM`): each word that extends a phrase earns a bonus, a partial match that fails
gives it back.

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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import torch

from asrloop.artifacts import BIASED_LM
from asrloop.errors import ConfigError, MissingInputError
from asrloop.progress import console
from asrloop.settings.decode import DecodeSettings
from asrloop.text.arpa import UNK, read_arpa
from asrloop.text.lexicon import read_lexicon, respell, write_lexicon
from asrloop.text.lm_bias import bias_model, without_positive_scores
from asrloop.text.spelling import edit_distance, nearest_word, spelling_distance
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


class BiasedLM:
    """The n-gram LM plus a context graph, as one flashlight LM (``CTCDecoderLM``).

    Each state is a node of a per-utterance trie of word histories (``CTCDecoderLMState``, as
    flashlight's KenLM keys its own), mapped to the KenLM state and the graph state behind it.
    The bonus is in decoder score units: it is divided by ``lm_weight``, which multiplies every
    LM score. Built by :func:`biased_lm` (the class is made once torchaudio is imported)."""


def biased_lm(lm_path: Path | None, word_dict, graph, lm_weight: float):
    """A :class:`BiasedLM` over the KenLM model at ``lm_path`` (or a zero LM without one)."""
    from torchaudio.models.decoder import CTCDecoderLM, CTCDecoderLMState
    from torchaudio.models.decoder._ctc_decoder import _KenLM, _ZeroLM

    from asrloop.text.context_graph import START

    first_words = graph.first_words()

    class _Biased(CTCDecoderLM, BiasedLM):
        def __init__(self):
            CTCDecoderLM.__init__(self)
            self.base = _KenLM(str(lm_path), word_dict) if lm_path else _ZeroLM()
            self.words = [word_dict.get_entry(i) for i in range(word_dict.index_size())]
            self.scale = 1.0 / lm_weight if lm_weight > 0 else 0.0
            self.states: dict = {}

        def start(self, start_with_nothing: bool):
            state = CTCDecoderLMState()
            self.states = {state: (self.base.start(start_with_nothing), START)}
            return state

        def score(self, state, usr_token_idx: int):
            child = state.child(usr_token_idx)
            known = self.states.get(child)
            if known is not None:
                return child, known[2]
            base_state, graph_state = self.states[state][:2]
            base_next, base_score = self.base.score(base_state, usr_token_idx)
            word = self.words[usr_token_idx]
            if graph_state == START and word not in first_words:  # most words: no phrase
                self.states[child] = (base_next, START, base_score)
                return child, base_score
            bonus, graph_next = graph.step(graph_state, word)
            total = base_score + bonus * self.scale
            self.states[child] = (base_next, graph_next, total)
            return child, total

        def finish(self, state):
            base_state, graph_state = self.states[state][:2]
            _, base_score = self.base.finish(base_state)
            return state, base_score + graph.finish(graph_state) * self.scale

    return _Biased()


class LexiconDecoder:
    """Lexicon-constrained beam search with the vocabulary folder's lexicon and ARPA LM, and
    optionally a context graph of ``bias`` phrases (``bias_bonus`` per matched word)."""

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
        bias: Sequence[str] = (),
        bias_bonus: float = 0.0,
        bias_mode: str = "lm",
        checked_terms: Sequence[str] = (),
        max_spelling_distance: float = 0.5,
        nearer_word_wins: bool = True,
        max_sound_distance: float = 0.0,
        language: str = "en",
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
        self.bias_phrases = self._usable_phrases(bias)
        self.graph = None
        if self.bias_phrases and bias_bonus:
            from asrloop.text.context_graph import ContextGraph

            self.graph = ContextGraph(self.bias_phrases, bias_bonus)
        # the term check: words of these terms stay only where the acoustics spell them
        self.checked = {w for term in checked_terms for w in term.split() if w in self.lexicon}
        self.others = sorted(set(self.lexicon) - self.checked)
        self.max_spelling_distance = float(max_spelling_distance)
        self.nearer_word_wins = bool(nearer_word_wins)
        self.sounds = None
        if self.checked and max_sound_distance > 0:
            from asrloop.text.sound_check import SoundCheck

            self.sounds = SoundCheck(language, max_sound_distance)
        with tempfile.TemporaryDirectory(prefix="asrloop-lexicon-") as tmp, _quiet_stderr():
            # KenLM prints a loading progress bar; flashlight reads the lexicon file here
            lexicon_file = write_lexicon(Path(tmp) / LEXICON_FILE, self.lexicon)
            language_model = str(lm) if lm.exists() else None
            if self.graph is not None and bias_mode == "lm" and lm.exists():
                # compiled into the n-gram LM: native KenLM speed (asrloop.text.lm_bias)
                biased = bias_model(read_arpa(lm), self.bias_phrases, bias_bonus / lm_weight)
                biased, shift = without_positive_scores(biased)
                word_score += lm_weight * shift  # every word pays the shift back
                language_model = str(biased.write_arpa(Path(tmp) / BIASED_LM))
            elif self.graph is not None:
                from flashlight.lib.text.dictionary import create_word_dict, load_words

                # the word indices the decoder will pass: its own word dict, made the same way
                words = create_word_dict(load_words(str(lexicon_file)))
                lm_path = lm if lm.exists() else None
                language_model = biased_lm(lm_path, words, self.graph, float(lm_weight))
            self._decoder = ctc_decoder(
                lexicon=str(lexicon_file),
                tokens=list(tokenizer.symbols),
                lm=language_model,
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

    def _usable_phrases(self, bias: Sequence[str]) -> list[list[str]]:
        """The biasing phrases whose words the lexicon has (others cannot be written)."""
        phrases = [p.split() for p in dict.fromkeys(bias) if p.split()]
        usable = [p for p in phrases if all(w in self.lexicon for w in p)]
        if len(usable) < len(phrases):
            left = [" ".join(p) for p in phrases if p not in usable]
            console.print(
                f"[yellow]decode.bias: {len(left)} phrases have words outside the lexicon and "
                f"are not biased: {', '.join(left[:10])}"
            )
        return usable

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
            hypotheses.append(self._hypothesis(results, log_probs[b], size))
        return hypotheses

    def _hypothesis(self, results: list, log_probs: torch.Tensor, size: int) -> Hypothesis:
        if not results:
            return Hypothesis()
        best = results[0]
        words = self._lexicon_words(best.words)
        frames = _decoder_frames(best.timesteps.tolist(), log_probs.shape[0])
        spans = _spans(best.tokens.tolist(), frames, log_probs, self.tokenizer)
        if [s.word for s in spans] != words:  # spelling and word list disagree: trust words
            spans = _whole_spans(words, spans, log_probs.shape[0])
        elif self.checked:
            spans = self._check_terms(spans, log_probs, size)
            words = [s.word for s in spans]
        alternatives = [" ".join(self._lexicon_words(r.words)) for r in results[1:]]
        return Hypothesis(" ".join(words), spans, float(best.score), alternatives)

    def _check_terms(
        self, spans: list[WordSpan], log_probs: torch.Tensor, size: int
    ) -> list[WordSpan]:
        """The term check: a word of a checked term stays only where the acoustic model, on
        its own (greedy, no lexicon, no LM), spells something within
        ``max_spelling_distance`` edits per letter of it over the word's frames (half-way to
        its neighbours') and, with ``nearer_word_wins``, no other lexicon word nearer that
        spelling, or (a second chance, with ``max_sound_distance``) something that sounds like
        it (:class:`~asrloop.text.sound_check.SoundCheck`); elsewhere the lexicon and LM pulled
        it in, and each word spelled there becomes the lexicon word nearest to it (nothing,
        where nothing was spelled)."""
        path = log_probs[:size].argmax(dim=-1).tolist()
        checked = []
        for k, span in enumerate(spans):
            if span.word not in self.checked:
                checked.append(span)
                continue
            start = (spans[k - 1].end_frame + span.start_frame) // 2 + 1 if k else 0
            last = len(spans) - 1
            end = (span.end_frame + spans[k + 1].start_frame) // 2 if k < last else size - 1
            spelled = self._spelled(path[start : end + 1])
            if self._spells(spelled, span.word):
                checked.append(span)
                continue
            for word in spelled:
                instead = nearest_word(word, self.others)
                if instead is not None:
                    checked.append(replace(span, word=instead))
        return checked

    def _spells(self, spelled: list[str], word: str) -> bool:
        """Whether the acoustic spelling supports ``word``: within the distance and (when it
        is one word and ``nearer_word_wins``) no other lexicon word fewer edits from it; or,
        where the letters are too far, it sounds like ``word`` (the same rule in sounds)."""
        joined = "".join(spelled)
        one_word = len(spelled) == 1 and self.nearer_word_wins
        if spelling_distance(joined, word) > self.max_spelling_distance:
            others = self.others if one_word else None
            return self.sounds is not None and self.sounds.supports(joined, word, others)
        if not one_word:
            return True
        # only a word strictly nearer than the term rejects it: an exact spelling needs no scan
        return nearest_word(joined, self.others, below=edit_distance(joined, word)) is None

    def _spelled(self, path: list[int]) -> list[str]:
        """The words a frame path spells (CTC collapse, split at the delimiter)."""
        tokens, _ = _collapse(path, self.tokenizer.blank_id)
        symbols, delimiter = self.tokenizer.symbols, self.tokenizer.delimiter_id
        text = "".join(
            " " if t == delimiter else self.tokenizer.to_text(symbols[t]) for t in tokens
        )
        return text.split()

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
        bias = getattr(decode, "bias", None)
        if bias is not None and bias.bonus:
            options["bias"] = [*bias.phrases, *bias.extra]
            options["bias_bonus"] = float(bias.bonus)
            options["bias_mode"] = str(bias.mode)
        check = getattr(decode, "term_check", None)
        if check is not None and check.enabled:
            options["checked_terms"] = list(check.terms)
            options["max_spelling_distance"] = float(check.max_distance)
            options["nearer_word_wins"] = bool(check.nearer_word_wins)
            options["max_sound_distance"] = float(check.max_sound_distance)
            options["language"] = str(check.language)
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
