"""The recognizer the running system uses: audio -> :class:`Transcription` (text, word times,
confidence).

Batches clips of similar length, chunks clips longer than ``max_seconds``, and never crashes on
empty or silent audio (it returns an empty transcript).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from asrloop.audio.features import FbankExtractor
from asrloop.audio.io import SAMPLE_RATE, read_audio
from asrloop.decode import GreedyDecoder, build_decoder
from asrloop.errors import MissingInputError
from asrloop.model.factory import load_model
from asrloop.serve.types import Transcription, WordTiming
from asrloop.text.tokenizer import CharTokenizer


def signature(model_dir, vocab_dir, decode_cfg, features_cfg, max_seconds, second_path) -> str:
    """A digest of everything that fixes a recognizer's output."""
    digest = hashlib.sha256()
    for name in ("model.safetensors", "config.json", "vocab.json"):
        file = Path(model_dir) / name
        digest.update(file.read_bytes() if file.exists() else name.encode())
    if vocab_dir is not None:
        for name in ("lexicon.txt", "lm.arpa"):
            file = Path(vocab_dir) / name
            digest.update(file.read_bytes() if file.exists() else b"")
    settings = {
        "decode": {k: str(v) for k, v in dict(decode_cfg).items()},
        "features": {k: str(v) for k, v in dict(features_cfg).items()},
        "max_seconds": max_seconds,
        "second_path": second_path,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:24]


class Recognizer:
    def __init__(
        self,
        model,
        tokenizer: CharTokenizer,
        decoder,
        extractor: FbankExtractor,
        max_seconds: float,
        max_file_seconds: float = float("inf"),
        second_path: bool = False,
    ):
        self.model = model.eval()
        self.tokenizer, self.decoder, self.extractor = tokenizer, decoder, extractor
        self.max_seconds = max_seconds  # chunk length
        self.max_file_seconds = max_file_seconds  # longer files are refused
        # also decode greedily (acoustics alone): where it disagrees with the lexicon + LM
        # path, the model may be forcing a new word into a known one
        self.greedy = GreedyDecoder(tokenizer) if second_path else None
        # what makes its output what it is (weights, vocabulary, settings): predictions keyed by
        # it can be reused (asrloop.serve.batch.PredictionCache); None when unknown
        self.signature: str | None = None
        self.frame_seconds = extractor.hop / SAMPLE_RATE * getattr(model.config, "subsampling", 4)

    @classmethod
    def from_dirs(
        cls,
        model_dir: str | Path,
        vocab_dir: str | Path | None,
        decode_cfg: Mapping,
        features_cfg: Mapping,
        max_seconds: float,
        second_path: bool = False,
    ) -> Recognizer:
        """A model folder (``save_pretrained`` + ``vocab.json``) and, for lexicon decoding, the
        vocabulary folder it decodes with."""
        tokenizer = CharTokenizer.load(model_dir)
        if decode_cfg["type"] == "lexicon" and not vocab_dir:
            raise MissingInputError("lexicon decoding needs a vocabulary folder (vocab build)")
        decoder = build_decoder(decode_cfg, tokenizer, str(vocab_dir) if vocab_dir else None)
        extractor = FbankExtractor.from_config(features_cfg)
        model = load_model(model_dir)
        recognizer = cls(
            model,
            tokenizer,
            decoder,
            extractor,
            max_seconds,
            features_cfg["max_file_seconds"],
            second_path,
        )
        recognizer.signature = signature(
            model_dir, vocab_dir, decode_cfg, features_cfg, max_seconds, second_path
        )
        return recognizer

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
        greedy: list[list[str]] = [[] for _ in audios]
        if pieces:
            log_probs, lengths = self.log_probs(pieces)
            hypotheses = self.decoder.decode(log_probs, lengths)
            if self.greedy is not None:
                for (index, _), hyp in zip(
                    owners, self.greedy.decode(log_probs, lengths), strict=True
                ):
                    greedy[index].append(hyp.text)
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
        if self.greedy is None:
            return [Transcription(tuple(w)) for w in words]
        return [
            Transcription(tuple(w), " ".join(t for t in g if t))
            for w, g in zip(words, greedy, strict=True)
        ]

    def transcribe_file(self, path: str | Path) -> Transcription:
        audio, _ = read_audio(path)
        return self.transcribe_batch([audio])[0]
