"""The recognizer the running system uses: audio -> :class:`Transcription` (text, word times,
confidence).

Batches clips of similar length, chunks clips longer than ``max_seconds``, and never crashes on
empty or silent audio (it returns an empty transcript).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from asrloop.audio.features import FbankExtractor
from asrloop.audio.io import SAMPLE_RATE, read_audio
from asrloop.decode import build_decoder
from asrloop.errors import MissingInputError
from asrloop.model.factory import load_model
from asrloop.text.tokenizer import CharTokenizer


@dataclass(frozen=True)
class WordTiming:
    word: str
    start: float  # seconds
    end: float
    confidence: float  # mean posterior of the word's tokens, in [0, 1]


@dataclass(frozen=True)
class Transcription:
    """One clip's result: words with times and confidence; ``confidence`` is their mean."""

    words: tuple[WordTiming, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)

    @property
    def confidence(self) -> float:
        if not self.words:
            return 0.0
        return round(float(np.mean([w.confidence for w in self.words])), 4)

    def words_as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(w) for w in self.words]

    @classmethod
    def from_word_dicts(cls, words: list[Mapping[str, Any]]) -> Transcription:
        """Words as written by :meth:`words_as_dicts`; a missing confidence reads as 1.0."""
        return cls(
            tuple(
                WordTiming(
                    str(w["word"]),
                    float(w.get("start") or 0.0),
                    float(w.get("end") or 0.0),
                    1.0 if w.get("confidence") is None else float(w["confidence"]),
                )
                for w in words
            )
        )


class Recognizer:
    def __init__(
        self,
        model,
        tokenizer: CharTokenizer,
        decoder,
        extractor: FbankExtractor,
        max_seconds: float,
        max_file_seconds: float = float("inf"),
    ):
        self.model = model.eval()
        self.tokenizer, self.decoder, self.extractor = tokenizer, decoder, extractor
        self.max_seconds = max_seconds  # chunk length
        self.max_file_seconds = max_file_seconds  # longer files are refused
        self.frame_seconds = extractor.hop / SAMPLE_RATE * getattr(model.config, "subsampling", 4)

    @classmethod
    def from_dirs(
        cls,
        model_dir: str | Path,
        vocab_dir: str | Path | None,
        decode_cfg: Mapping,
        features_cfg: Mapping,
        max_seconds: float,
    ) -> Recognizer:
        """A model folder (``save_pretrained`` + ``vocab.json``) and, for lexicon decoding, the
        vocabulary folder it decodes with."""
        tokenizer = CharTokenizer.load(model_dir)
        if decode_cfg["type"] == "lexicon" and not vocab_dir:
            raise MissingInputError("lexicon decoding needs a vocabulary folder (vocab build)")
        decoder = build_decoder(decode_cfg, tokenizer, str(vocab_dir) if vocab_dir else None)
        extractor = FbankExtractor.from_config(features_cfg)
        model = load_model(model_dir)
        return cls(
            model, tokenizer, decoder, extractor, max_seconds, features_cfg["max_file_seconds"]
        )

    @torch.no_grad()
    def log_probs(self, audios: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        feats = [self.extractor(a) for a in audios]
        lengths = torch.tensor([f.shape[0] for f in feats])
        batch = torch.zeros(len(feats), max(1, int(lengths.max())), self.extractor.mel.n_mels)
        for i, f in enumerate(feats):
            batch[i, : f.shape[0]] = f
        logits = self.model(batch, lengths.clamp(min=1)).logits
        out_lengths = self.model.output_lengths(lengths).clamp(min=0)
        out_lengths[lengths == 0] = 0
        return logits.log_softmax(-1), out_lengths

    def _chunks(self, audio: np.ndarray) -> list[np.ndarray]:
        size = int(self.max_seconds * SAMPLE_RATE)
        if len(audio) <= size:
            return [audio]
        return [audio[i : i + size] for i in range(0, len(audio), size)]

    def transcribe_batch(self, audios: list[np.ndarray]) -> list[Transcription]:
        """One :class:`Transcription` per clip, in order."""
        pieces, owners = [], []
        for index, audio in enumerate(audios):
            for k, chunk in enumerate(self._chunks(audio)):
                pieces.append(chunk)
                owners.append((index, k * self.max_seconds))
        words: list[list[WordTiming]] = [[] for _ in audios]
        if pieces:
            log_probs, lengths = self.log_probs(pieces)
            hypotheses = self.decoder.decode(log_probs, lengths)
            for (index, offset), hyp in zip(owners, hypotheses, strict=True):
                words[index] += [
                    WordTiming(
                        w.word,
                        round(offset + w.start_frame * self.frame_seconds, 3),
                        round(offset + (w.end_frame + 1) * self.frame_seconds, 3),
                        round(float(w.confidence), 4),
                    )
                    for w in hyp.words
                ]
        return [Transcription(tuple(w)) for w in words]

    def transcribe_file(self, path: str | Path) -> Transcription:
        audio, _ = read_audio(path)
        return self.transcribe_batch([audio])[0]
