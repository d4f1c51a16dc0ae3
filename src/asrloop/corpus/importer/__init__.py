"""``asrloop corpus import``: a corpus in a format speech teams already have becomes shards.

One small module per format (as lhotse/recipes has), each with ``detect(path)`` and
``read(path, options) -> list[SourceClip]``: LibriSpeech, Common Voice, LJ Speech, Kaldi data
dir, NeMo manifest, Hugging Face audiofolder, lhotse manifests. Then one path for all of them:
:mod:`~asrloop.corpus.importer.import_plan` normalises the text (reporting what it cannot write)
and assigns splits, :mod:`~asrloop.corpus.importer.shard_writer` decodes, down-mixes and resamples
(:mod:`~asrloop.corpus.importer.conversion`) once to 16 kHz mono WAV in worker processes,
:mod:`~asrloop.corpus.importer.importing` runs it all.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from asrloop.errors import ConfigError

# Checked in this order by format "auto" (more specific layouts first).
FORMATS = ("lhotse", "nemo", "kaldi", "commonvoice", "ljspeech", "librispeech", "audiofolder")
MODULES = {"lhotse": "lhotse_manifest"}


def reader(name: str):
    """The module that reads format ``name``."""
    if name not in FORMATS:
        raise ConfigError(f"corpus.importer.format: unknown format {name!r} (one of {FORMATS})")
    return import_module(f"{__name__}.{MODULES.get(name, name)}")


def detect_format(path: Path) -> str:
    """The first format whose layout ``path`` has; raises :class:`ConfigError` when none fits."""
    for name in FORMATS:
        if reader(name).detect(path):
            return name
    raise ConfigError(
        f"{path}: no known corpus layout found; set corpus.importer.format to one of {FORMATS}"
    )
