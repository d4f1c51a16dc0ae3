"""The recognizer the running system uses: audio -> :class:`Transcription` (text, word times,
confidence).

Batches clips of similar length, chunks clips longer than ``max_seconds``, and never crashes on
empty or silent audio (it returns an empty transcript). Any model folder serves: the project's
fbank model or a transformers checkpoint, each with its own processor
(:mod:`asrloop.model.checkpoint`), on the device ``conf/trainer`` picks, in fp32 or, with
``trainer.inference_precision``, bf16 autocast.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from asrloop.artifacts import CONFIDENCE_MAP
from asrloop.audio.activity import speech_check
from asrloop.audio.io import SAMPLE_RATE, read_audio
from asrloop.decode import GreedyDecoder, build_decoder
from asrloop.errors import MissingInputError
from asrloop.hardware import autocast
from asrloop.inference.recipe import RecognizerRecipe, folder_files
from asrloop.inference.types import Transcription, WordTiming
from asrloop.inference.uncertainty import FrameUncertainty, combine, frame_uncertainty
from asrloop.model.checkpoint import load_checkpoint
from asrloop.model.inputs import ModelInputs
from asrloop.records import CalibrationReport, ConfidenceMap
from asrloop.settings.decode import DecodeSettings
from asrloop.settings.features import FeaturesSettings, SpeechGateSettings
from asrloop.stats.calibration import apply_map
from asrloop.text.tokenizer import CharTokenizer

MODEL_FILES = (
    CONFIDENCE_MAP,  # the calibration changes the confidences a recognizer reports
    "model.safetensors",
    "config.json",
    "vocab.json",
    "tokenizer_config.json",
    "preprocessor_config.json",
)


def signature(
    model_files: Mapping[str, bytes],
    vocab_files: Mapping[str, bytes] | None,
    decode: DecodeSettings,
    features: FeaturesSettings,
    max_seconds,
    second_path,
    precision="fp32",
) -> str:
    """A digest of everything that fixes a recognizer's output: the model and vocabulary
    folders' files (by name -> bytes, as :func:`folder_files` reads them) and the settings as
    strings, key by key (the digests prediction caches were made with)."""
    digest = hashlib.sha256()
    for name in MODEL_FILES:
        digest.update(model_files.get(name, name.encode()))
    if vocab_files is not None:
        for name in ("lexicon.txt", "lm.arpa"):
            digest.update(vocab_files.get(name, b""))
    decoding = asdict(decode)
    if not (decoding.get("bias") or {}).get("bonus"):  # biasing off: the digest it had before
        decoding.pop("bias", None)
    settings = {
        "decode": {k: str(v) for k, v in decoding.items()},
        "features": {k: str(v) for k, v in asdict(features).items()},
        "max_seconds": max_seconds,
        "second_path": second_path,
        # named only when not fp32: fp32 recognizers keep the digests their caches were made with
        **({"precision": precision} if precision != "fp32" else {}),
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:24]


class Recognizer:
    def __init__(
        self,
        model,
        tokenizer: CharTokenizer,
        decoder,
        inputs: ModelInputs,
        max_seconds: float,
        max_file_seconds: float = float("inf"),
        second_path: bool = False,
        device: torch.device | None = None,
        precision: str = "fp32",
        speech_gate: SpeechGateSettings | None = None,
    ):
        self.device = device or torch.device("cpu")
        # clips without speech get no words (None or disabled: every clip is decoded)
        self.speech_gate = speech_gate if speech_gate is not None and speech_gate.enabled else None
        self.precision = precision  # fp32, or bf16 / fp16 autocast around the acoustic model
        self.model = model.eval().to(self.device)
        self.tokenizer, self.decoder, self.inputs = tokenizer, decoder, inputs
        self.max_seconds = max_seconds  # chunk length
        self.max_file_seconds = max_file_seconds  # longer files are refused
        # also decode greedily (acoustics alone): where it disagrees with the lexicon + LM
        # path, the model may be forcing a new word into a known one
        self.greedy = GreedyDecoder(tokenizer) if second_path else None
        # what makes its output what it is (weights, vocabulary, settings): predictions keyed by
        # it can be reused (asrloop.inference.batch.PredictionCache); None when unknown
        self.signature: str | None = None
        self.frame_seconds = inputs.frame_seconds
        # word confidence calibrated on dev (the model folder's confidence_map.json), or raw
        self.confidence_map: ConfidenceMap | None = None
        # its folders and settings by value, when built from folders: what a worker rebuilds
        self.recipe: RecognizerRecipe | None = None

    def word_confidence(self, raw: float) -> float:
        if self.confidence_map is None:
            return round(float(raw), 4)
        return round(apply_map(self.confidence_map, float(raw)), 4)

    @classmethod
    def from_dirs(
        cls,
        model_dir: str | Path,
        vocab_dir: str | Path | None,
        decode: DecodeSettings,
        features: FeaturesSettings,
        max_seconds: float,
        second_path: bool = False,
        device: torch.device | None = None,
        precision: str = "fp32",
    ) -> Recognizer:
        """A model folder (``save_pretrained`` + its processor's files) and, for lexicon
        decoding, the vocabulary folder it decodes with."""
        if decode.type == "lexicon" and not vocab_dir:
            raise MissingInputError("lexicon decoding needs a vocabulary folder (vocab build)")
        model, processor = load_checkpoint(model_dir)
        tokenizer = processor.tokenizer
        decoder = build_decoder(decode, tokenizer, str(vocab_dir) if vocab_dir else None)
        recognizer = cls(
            model,
            tokenizer,
            decoder,
            processor.inputs(model, features),
            max_seconds,
            features.max_file_seconds,
            second_path,
            device,
            precision,
            features.speech_gate,
        )
        calibration = Path(model_dir) / CONFIDENCE_MAP
        if calibration.exists():
            recognizer.confidence_map = CalibrationReport.load(calibration).map
        model_files = folder_files(Path(model_dir))
        vocab_files = folder_files(Path(vocab_dir)) if vocab_dir else None
        recognizer.signature = signature(
            model_files, vocab_files, decode, features, max_seconds, second_path, precision
        )
        recognizer.recipe = RecognizerRecipe(
            model_files,
            vocab_files,
            decode,
            features,
            max_seconds,
            second_path,
            recognizer.device.type,
            precision,
        )
        return recognizer

    def __reduce__(self):
        """Pickled as its recipe: another process (an executor's worker) rebuilds it."""
        if self.recipe is None:
            raise TypeError(
                "this recognizer was built from objects, not from model folders "
                "(Recognizer.from_dirs): it cannot be sent to another process"
            )
        return Recognizer.from_recipe, (self.recipe,)

    @classmethod
    def from_recipe(cls, recipe: RecognizerRecipe) -> Recognizer:
        """The recognizer a recipe describes (in a worker: the same model, vocabulary and
        settings as the process that sent it)."""
        with recipe.materialize() as (model_dir, vocab_dir, device, precision):
            return cls.from_dirs(
                model_dir,
                vocab_dir,
                recipe.decode,
                recipe.features,
                recipe.max_seconds,
                recipe.second_path,
                device,
                precision,
            )

    @torch.no_grad()
    def log_probs(self, audios: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, T, V] log-probabilities (on the CPU) and each clip's valid frames."""
        batch, out_lengths = self.inputs.batch([self.inputs(a) for a in audios])
        with autocast(self.device, self.precision):
            logits = self.model(**{k: v.to(self.device) for k, v in batch.items()}).logits
        return logits.float().log_softmax(-1).cpu(), out_lengths

    def _chunks(self, audio: np.ndarray) -> list[np.ndarray]:
        size = int(self.max_seconds * SAMPLE_RATE)
        if len(audio) <= size:
            return [audio]
        return [audio[i : i + size] for i in range(0, len(audio), size)]

    def has_speech(self, audio: np.ndarray) -> bool:
        """Whether the speech gate lets ``audio`` through (always, without a gate)."""
        if self.speech_gate is None:
            return True
        return speech_check(audio, SAMPLE_RATE, self.speech_gate).speech

    def transcribe_batch(self, audios: list[np.ndarray], decoder=None) -> list[Transcription]:
        """One :class:`Transcription` per clip, in order; a clip without speech (the speech
        gate) gets no words. ``decoder`` replaces the recognizer's own for this call (e.g. one
        biased towards a request's phrases)."""
        pieces, owners = [], []
        for index, audio in enumerate(audios):
            if not self.has_speech(audio):
                continue
            for k, chunk in enumerate(self._chunks(audio)):
                pieces.append(chunk)
                owners.append((index, k * self.max_seconds))
        words: list[list[WordTiming]] = [[] for _ in audios]
        greedy: list[list[str]] = [[] for _ in audios]
        doubts: list[list[FrameUncertainty]] = [[] for _ in audios]
        if pieces:
            log_probs, lengths = self.log_probs(pieces)
            hypotheses = (decoder or self.decoder).decode(log_probs, lengths)
            for (index, _), doubt in zip(
                owners, frame_uncertainty(log_probs, lengths, self.tokenizer.blank_id), strict=True
            ):
                doubts[index].append(doubt)
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
                        self.word_confidence(w.confidence),
                    )
                    for w in hyp.words
                ]
        results = []
        for clip_words, clip_greedy, clip_doubts in zip(words, greedy, doubts, strict=True):
            doubt = combine(clip_doubts)
            results.append(
                Transcription(
                    tuple(clip_words),
                    None if self.greedy is None else " ".join(t for t in clip_greedy if t),
                    doubt.entropy if doubt else None,
                    doubt.margin if doubt else None,
                )
            )
        return results

    def transcribe_file(self, path: str | Path) -> Transcription:
        audio, _ = read_audio(path)
        return self.transcribe_batch([audio])[0]
