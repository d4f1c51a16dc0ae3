"""A small used project for the attack tests: a drop (real espeak-ng audio, its manifest and
references) that was served and triaged (a serving record and a review queue).

:func:`data_digest` fingerprints every file under ``data/``: a refused attack leaves it equal.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from asrloop.artifacts import PLAN_DIGEST, Layout
from asrloop.config import compose
from asrloop.corpus.manifest import Utterance, write_manifest
from asrloop.decode import GreedyDecoder
from asrloop.inference.pyfunc import RequestLimits, Transcriber
from asrloop.inference.recognizer import Recognizer
from asrloop.loop.review_queue import write_queue
from asrloop.model.checkpoint import Processor
from asrloop.model.factory import build_model
from asrloop.records import ServingRecord
from asrloop.settings import typed
from asrloop.settings.features import SpeechGateSettings
from asrloop.text.tokenizer import CharTokenizer
from tests.review_data import CLIPS, make_queue

DROP = "news-drop1"


@dataclass(frozen=True)
class Project:
    root: Path
    layout: Layout

    @property
    def drop_dir(self) -> Path:
        return self.layout.drop_dir(DROP)

    @property
    def queue(self) -> Path:
        return self.layout.review_queue(DROP)


def data_digest(root: Path) -> str:
    """A digest of every file (path, bytes) under ``root/data``."""
    digest = hashlib.sha256()
    for path in sorted((root / "data").rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def used_project_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("used-project")
    layout = Layout.from_paths(compose([f"paths.root={root}"]).paths)
    drop = layout.drop_dir(DROP)
    items = make_queue(layout.review_queue(DROP), drop)
    items = [i.replace(audio_filepath=f"data/drops/{DROP}/{i.id}.wav") for i in items]
    write_queue(layout.review_queue(DROP), items)  # root-relative, as triage writes them
    rows = [
        Utterance(id=clip, audio_filepath=f"{clip}.wav", duration=1.0, split="drop")
        for clip, *_ in CLIPS
    ]
    write_manifest(drop / "manifest.jsonl", rows)
    (drop / PLAN_DIGEST).write_text("0" * 64 + "\n")  # as every drop asrloop writes has
    said = {clip: text for clip, _, text, *_ in CLIPS}
    references = [
        r.replace(text=said[r.id], audio_filepath=f"../drops/{DROP}/{r.audio_filepath}")
        for r in rows
    ]
    write_manifest(layout.drop_references(DROP), references)
    ServingRecord("asrloop-news-ctc", "1").write(layout.serving_record(DROP))
    assert len(items) == len(CLIPS)
    return root


@pytest.fixture
def project(used_project_template, tmp_path) -> Project:
    root = tmp_path / "project"
    shutil.copytree(used_project_template, root, symlinks=True)
    return Project(root, Layout.from_paths(compose([f"paths.root={root}"]).paths))


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    """The project's model, untrained (what is refused does not depend on what it learned)."""
    tokenizer = CharTokenizer.from_texts(["the quick brown fox jumps over a lazy dog"])
    settings = typed(compose([]))
    model = build_model(settings.model, len(tokenizer))
    inputs = Processor(tokenizer).inputs(model, settings.features)
    return Recognizer(
        model, tokenizer, GreedyDecoder(tokenizer), inputs, 20.0, 1800.0,
        speech_gate=SpeechGateSettings(),
    )  # fmt: skip


@pytest.fixture(scope="module")
def transcriber(recognizer) -> Transcriber:
    served = Transcriber()
    served.recognizer, served.limits = recognizer, RequestLimits()
    return served
