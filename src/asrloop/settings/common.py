"""Types shared by the config schemas.

``Number`` keeps a value as the YAML wrote it (an ``int`` stays an ``int``): cache keys and the
pipeline's params file hash the values, and a silent ``15`` -> ``15.0`` would change them.
``ModelRef`` is a registry alias, a version number or a folder: whichever the user wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

Number = int | float
ModelRef = str | int


@dataclass
class NoiseSettings:
    """Added noise: the share of clips that get it and their SNR range (dB)."""

    prob: float = MISSING
    snr_db: list[Number] = MISSING


@dataclass
class SplitSizes:
    """One count per corpus split."""

    train: int = MISSING
    dev: int = MISSING
    test: int = MISSING
    regression: int = MISSING
    test_neural: int = (
        0  # a test split in the neural voices (corpus.voices.neural), never trained on
    )


def keyword_field(cls: type, name: str, kind: Any, default: Callable[[], Any]) -> None:
    """Declare a field named by a Python keyword (``review.import``) before ``@dataclass`` runs.

    Generated code cannot spell the keyword, so the field takes no ``__init__`` argument and is
    left out of ``repr`` and comparisons; ``__post_init__`` sets its ``default()``, OmegaConf
    sets the configured value with ``setattr``, and ``getattr(obj, name)`` reads it."""
    if "__annotations__" not in cls.__dict__:  # not the base class's
        cls.__annotations__ = {}
    cls.__annotations__[name] = kind
    setattr(cls, name, field(init=False, repr=False, compare=False))

    def __post_init__(self) -> None:
        setattr(self, name, default())

    cls.__post_init__ = __post_init__


@dataclass(frozen=True)
class FreeFormCheck:
    """How to check a free-form (``dict``) node: the keys ``schema`` declares get its types; with
    ``strict`` every other key is an error too (a partial of ``schema``)."""

    schema: type
    strict: bool = False


def schema_fields(kind: Any) -> list[str]:
    """The field names of a dataclass schema (for did-you-mean hints)."""
    return list(getattr(kind, "__dataclass_fields__", {}))
