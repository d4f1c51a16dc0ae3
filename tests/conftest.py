"""Shared fixtures: the real config composed and shrunk for tests, tiny real corpora and repos.

Everything here is made by the project itself (espeak-ng audio, git + DVC repos, SQLite MLflow);
nothing is mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from asrloop.corpus.plan import plan_corpus
from asrloop.corpus.shards import render_shards
from asrloop.settings import typed
from asrloop.tracking import REGISTRY_ENV, URI_ENV, environment_kept
from tests.helpers import TINY_CORPUS, init_project_repo, make_cfg


@pytest.fixture(autouse=True)
def tracking_uri_stays_the_users():
    """``mlflow.set_tracking_uri`` (called by tests to read a project's runs) exports
    ``MLFLOW_TRACKING_URI``, which asrloop reads as the user's choice: keep one test's URI
    from reaching the next test or the steps it starts."""
    with environment_kept(URI_ENV, REGISTRY_ENV):
        yield


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """(cfg, root) of a tiny synthesized corpus; treat it as read-only (copy to modify)."""
    root = tmp_path_factory.mktemp("tiny-corpus")
    cfg = make_cfg(root, *TINY_CORPUS)
    shards = plan_corpus(typed(cfg).corpus, cfg.scenario.terms)
    render_shards(shards, Path(cfg.paths.base_corpus), workers=1)
    return cfg, root


@pytest.fixture(scope="session")
def spoken():
    """The 24 sentences of :mod:`tests.corpus_formats` spoken by four voices (16 kHz)."""
    from tests.corpus_formats import speak

    return speak()


@pytest.fixture
def project_repo(tmp_path):
    return init_project_repo(tmp_path / "project")
