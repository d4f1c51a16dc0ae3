"""The recognizer the running system uses: audio -> text with per-word times and confidence.

Batches clips of similar length, chunks clips longer than ``max_seconds``, and never crashes on
empty or silent audio (it returns an empty transcript).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from asrloop.audio.features import FbankExtractor
from asrloop.audio.io import SAMPLE_RATE, read_audio
from asrloop.decode import build_decoder
from asrloop.model.factory import load_model
from asrloop.text.tokenizer import CharTokenizer

DEFAULT_DECODE = {
    "type": "lexicon",
    "beam_size": 50,
    "beam_threshold": 25,
    "lm_weight": 1.6,
    "word_score": 0.0,
    "unk_score": float("-inf"),
    "sil_score": 0.0,
}


class Recognizer:
    def __init__(
        self,
        model,
        tokenizer: CharTokenizer,
        decoder,
        extractor: FbankExtractor,
        max_seconds: float = 20.0,
    ):
        self.model = model.eval()
        self.tokenizer, self.decoder, self.extractor = tokenizer, decoder, extractor
        self.max_seconds = max_seconds
        self.frame_seconds = extractor.hop / SAMPLE_RATE * getattr(model.config, "subsampling", 4)

    @classmethod
    def from_dirs(
        cls,
        model_dir,
        vocab_dir=None,
        decode_cfg=None,
        features_cfg=None,
        max_seconds: float = 20.0,
    ) -> Recognizer:
        tokenizer = CharTokenizer.load(model_dir)
        if decode_cfg is None:
            decode_cfg = DEFAULT_DECODE if vocab_dir else {"type": "greedy"}
        if decode_cfg.get("type") == "lexicon" and not vocab_dir:
            raise ValueError("lexicon decoding needs a vocabulary folder (vocab build)")
        decoder = build_decoder(
            OmegaConf.create(dict(decode_cfg)), tokenizer, str(vocab_dir) if vocab_dir else None
        )
        extractor = (
            FbankExtractor.from_config(features_cfg)
            if features_cfg is not None
            else FbankExtractor()
        )
        return cls(load_model(model_dir), tokenizer, decoder, extractor, max_seconds)

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

    def transcribe_batch(self, audios: list[np.ndarray]) -> list[dict]:
        """One result per clip: ``text``, ``words`` (word, start, end, confidence) and
        ``confidence``."""
        pieces, owners = [], []
        for index, audio in enumerate(audios):
            for k, chunk in enumerate(self._chunks(audio)):
                pieces.append(chunk)
                owners.append((index, k * self.max_seconds))
        results = [{"text": "", "words": [], "confidence": 1.0} for _ in audios]
        if not pieces:
            return results
        log_probs, lengths = self.log_probs(pieces)
        for (index, offset), hyp in zip(
            owners, self.decoder.decode(log_probs, lengths), strict=True
        ):
            words = [
                {
                    "word": w.word,
                    "start": round(offset + w.start_frame * self.frame_seconds, 3),
                    "end": round(offset + (w.end_frame + 1) * self.frame_seconds, 3),
                    "confidence": round(float(w.confidence), 4),
                }
                for w in hyp.words
            ]
            results[index]["words"].extend(words)
        for result in results:
            result["text"] = " ".join(w["word"] for w in result["words"])
            confs = [w["confidence"] for w in result["words"]]
            result["confidence"] = round(float(np.mean(confs)), 4) if confs else 0.0
        return results

    def transcribe_file(self, path: str | Path) -> dict:
        audio, _ = read_audio(path)
        return self.transcribe_batch([audio])[0]
