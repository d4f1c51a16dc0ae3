"""Load a recognizer by reference: a model folder, or ``registry:<alias|version>``.

A registered version decodes with the vocabulary it shipped with; a model folder decodes with
the project's current vocabulary (``paths.vocab``), or greedily when there is none yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from asrloop.artifacts import has_lexicon, vocab_version
from asrloop.hardware import Hardware, pick_precision
from asrloop.inference.recognizer import Recognizer
from asrloop.model.registry import Registry
from asrloop.records import ModelInfo
from asrloop.settings.decode import DecodeSettings
from asrloop.settings.features import FeaturesSettings
from asrloop.settings.trainer import TrainerSettings

REGISTRY_PREFIX = "registry:"
GREEDY = DecodeSettings(type="greedy")  # acoustics alone (no vocabulary, or on purpose)


@dataclass(frozen=True)
class DecodingSetup:
    """How every recognizer of a step decodes: ``decode`` and ``features`` settings, the longest
    chunk, the working vocabulary folder (for model folders) and the device (``conf/trainer``,
    as training picks it)."""

    decode: DecodeSettings
    features: FeaturesSettings
    max_seconds: float
    vocab_dir: Path
    second_path: bool = False  # also decode greedily (transcripts for the monitor)
    device: torch.device | None = None  # None: the CPU
    precision: str = "fp32"  # the acoustic model's number format (trainer.inference_precision)

    @classmethod
    def resolve(
        cls,
        decode: DecodeSettings,
        features: FeaturesSettings,
        vocab_dir: str | Path,
        trainer: TrainerSettings | None = None,
    ) -> DecodingSetup:
        """``trainer`` picks the device and sets this process's threads; without it
        (registration, which decodes nothing) recognizers run on the CPU."""
        max_seconds = float(features.max_seconds)
        if trainer is None:
            return cls(decode, features, max_seconds, Path(vocab_dir))
        device = Hardware.resolve(trainer).apply().device
        precision = pick_precision(str(trainer.inference_precision), device)
        return cls(
            decode,
            features,
            max_seconds,
            Path(vocab_dir),
            device=device,
            precision=precision,
        )

    def decode_for(self, vocab_dir: Path | None) -> DecodeSettings:
        return self.decode if vocab_dir or self.decode.type == "greedy" else GREEDY

    def build(self, model_dir: Path, vocab_dir: Path | None) -> Recognizer:
        return Recognizer.from_dirs(
            model_dir,
            vocab_dir,
            self.decode_for(vocab_dir),
            self.features,
            self.max_seconds,
            self.second_path,
            self.device,
            self.precision,
        )


def load_recognizer(
    ref: str, setup: DecodingSetup, registry: Registry
) -> tuple[Recognizer, ModelInfo]:
    """A recognizer for a model folder or ``registry:<alias|version>``, with its provenance."""
    if ref.startswith(REGISTRY_PREFIX):
        with registry.checkout(ref.removeprefix(REGISTRY_PREFIX)) as checked:
            vocab_dir = checked.vocab_dir or _working_vocab(setup)
            recognizer = setup.build(checked.model_dir, vocab_dir)
            info = ModelInfo(ref, checked.version, vocab_version(vocab_dir))
        return recognizer, info
    vocab_dir = _working_vocab(setup)
    return setup.build(Path(ref), vocab_dir), ModelInfo(ref, None, vocab_version(vocab_dir))


def _working_vocab(setup: DecodingSetup) -> Path | None:
    return setup.vocab_dir if has_lexicon(setup.vocab_dir) else None
