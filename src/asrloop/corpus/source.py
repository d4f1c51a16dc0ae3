"""The pipeline's ``corpus`` and ``drop`` stages: synthesize or import, as configured.

``asrloop corpus build`` runs ``corpus synth`` or ``corpus import`` (``corpus.source``);
``asrloop drop build`` runs ``drop synth`` or ``drop import`` (``scenario.drop.source``).
Everything downstream reads the same shards and drop folders either way.
"""

from __future__ import annotations

from omegaconf import DictConfig

from asrloop.errors import ConfigError

SOURCES = ("synth", "import")


def _source(value: object, key: str) -> str:
    if value not in SOURCES:
        raise ConfigError(f"{key}: {value!r} is not one of {SOURCES}")
    return str(value)


def run_corpus(cfg: DictConfig):
    """``asrloop corpus build``."""
    if _source(cfg.corpus.source, "corpus.source") == "import":
        from asrloop.corpus.importer import build

        return build.run(cfg)
    from asrloop.corpus import build

    return build.run(cfg)


def run_drop(cfg: DictConfig):
    """``asrloop drop build``."""
    if _source(cfg.scenario.drop.source, "scenario.drop.source") == "import":
        from asrloop.corpus import drop_import

        return drop_import.run(cfg)
    from asrloop.corpus import drop

    return drop.run(cfg)
