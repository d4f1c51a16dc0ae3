"""What rebuilds a recognizer in another process: its folders' files and its settings.

A :class:`~asrloop.inference.recognizer.Recognizer` built from folders keeps its recipe and
pickles as it, so an executor's worker (a Ray actor, on this machine or another) loads the same
model, vocabulary and decoder once and decodes exactly as this process would. The folders are
copied by value: a registry checkout is gone by the time a worker starts.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from asrloop.settings.decode import DecodeSettings
from asrloop.settings.features import FeaturesSettings


def folder_files(folder: Path | None) -> dict[str, bytes] | None:
    """The regular files directly in ``folder`` (model and vocabulary folders are flat)."""
    if folder is None:
        return None
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


@dataclass(frozen=True)
class RecognizerRecipe:
    model_files: dict[str, bytes]
    vocab_files: dict[str, bytes] | None
    decode: DecodeSettings
    features: FeaturesSettings
    max_seconds: float
    second_path: bool
    device_type: str  # "cpu", "cuda": where the original ran; a worker without it uses the CPU
    precision: str

    @contextmanager
    def materialize(self) -> Iterator[tuple[Path, Path | None, torch.device, str]]:
        """(model folder, vocabulary folder, device, precision) to build it from: copies of the
        folders in a private temporary folder, removed on leaving (a built recognizer holds
        what it read; every worker that unpickles one would otherwise leave ~5 MB behind);
        the CPU (in fp32) where the original's device is missing."""
        root = Path(tempfile.mkdtemp(prefix="asrloop-recognizer-"))
        try:
            model_dir = _write(root / "model", self.model_files)
            vocab_dir = _write(root / "vocab", self.vocab_files) if self.vocab_files else None
            device = torch.device(self.device_type)
            if device.type == "cuda" and not torch.cuda.is_available():
                device = torch.device("cpu")
            precision = self.precision if device.type == self.device_type else "fp32"
            yield model_dir, vocab_dir, device, precision
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / Path(name).name).write_bytes(data)
    return folder
