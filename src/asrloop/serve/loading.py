"""Load a recognizer by reference: a model folder, or ``registry:<alias|version>``.

A registered version decodes with the vocabulary it shipped with; a model folder decodes with
the project's current vocabulary (``paths.vocab``), or greedily when there is none yet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from asrloop.hardware import Hardware, pick_precision
from asrloop.model.registry import Registry
from asrloop.records import ModelInfo
from asrloop.serve.recognizer import Recognizer

REGISTRY_PREFIX = "registry:"
GREEDY = {"type": "greedy"}


@dataclass(frozen=True)
class DecodingSetup:
    """How every recognizer of a step decodes: ``decode`` and ``features`` config, the longest
    chunk, the working vocabulary folder (for model folders) and the device (``conf/trainer``,
    as training picks it)."""

    decode: Mapping[str, Any]
    features: Mapping[str, Any]
    max_seconds: float
    vocab_dir: Path
    second_path: bool = False  # also decode greedily (transcripts for the monitor)
    device: torch.device | None = None  # None: the CPU
    precision: str = "fp32"  # the acoustic model's number format (trainer.inference_precision)

    @classmethod
    def from_config(
        cls,
        decode_cfg: DictConfig,
        features_cfg: DictConfig,
        vocab_dir: str | Path,
        trainer_cfg: DictConfig | None = None,
    ) -> DecodingSetup:
        """``trainer_cfg`` (``conf/trainer``) picks the device and sets this process's threads;
        without it (registration, which decodes nothing) recognizers run on the CPU."""
        max_seconds = float(features_cfg.max_seconds)
        if trainer_cfg is None:
            return cls(decode_cfg, features_cfg, max_seconds, Path(vocab_dir))
        device = Hardware.from_config(trainer_cfg).apply().device
        precision = pick_precision(str(trainer_cfg.get("inference_precision", "fp32")), device)
        return cls(
            decode_cfg,
            features_cfg,
            max_seconds,
            Path(vocab_dir),
            device=device,
            precision=precision,
        )

    def decode_for(self, vocab_dir: Path | None) -> Mapping[str, Any]:
        return self.decode if vocab_dir or self.decode["type"] == "greedy" else GREEDY

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


def _vocab_version(vocab_dir: Path | None) -> str | None:
    if vocab_dir is None or not (vocab_dir / "version.json").exists():
        return None
    return json.loads((vocab_dir / "version.json").read_text())["vocab_version"]


def load_recognizer(
    ref: str, setup: DecodingSetup, registry: Registry
) -> tuple[Recognizer, ModelInfo]:
    """A recognizer for a model folder or ``registry:<alias|version>``, with its provenance."""
    if ref.startswith(REGISTRY_PREFIX):
        with registry.checkout(ref.removeprefix(REGISTRY_PREFIX)) as checked:
            vocab_dir = checked.vocab_dir or _working_vocab(setup)
            recognizer = setup.build(checked.model_dir, vocab_dir)
            info = ModelInfo(ref, checked.version, _vocab_version(vocab_dir))
        return recognizer, info
    vocab_dir = _working_vocab(setup)
    return setup.build(Path(ref), vocab_dir), ModelInfo(ref, None, _vocab_version(vocab_dir))


def _working_vocab(setup: DecodingSetup) -> Path | None:
    return setup.vocab_dir if (setup.vocab_dir / "lexicon.txt").exists() else None
