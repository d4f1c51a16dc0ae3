"""One test per attack on asrloop's surfaces: each shows the refusal and that ``data/`` did not
change (a digest of every file before and after). SECURITY.md lists what each surface trusts."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from omegaconf import OmegaConf

from asrloop.artifacts import ModelOutput
from asrloop.audio.activity import speech_check
from asrloop.audio.io import SAMPLE_RATE, encode_wav
from asrloop.config import compose
from asrloop.corpus.drop import Drop
from asrloop.corpus.drop_import import DropImportSettings, import_drop
from asrloop.corpus.manifest import ManifestError, read_manifest
from asrloop.corpus.served import ServedDropError
from asrloop.corpus.synthesis import VoiceSpec, synthesize
from asrloop.errors import ConfigError, DataError
from asrloop.inference.transcribe import portable
from asrloop.loop.gate import DIGEST_TAG, decision_digest, gate_version
from asrloop.loop.review_queue import QUEUE_CSV, read_queue
from asrloop.model.factory import architecture_mismatches, build_model
from asrloop.model.registry import Registry
from asrloop.pipeline import write_params
from asrloop.records import Candidate, GateDecision, RecordError
from asrloop.review.access import Access
from asrloop.review.app import create_app
from asrloop.review.page import PageSettings
from asrloop.review.server import ReviewServer
from asrloop.review.store import ReviewStore
from asrloop.settings import typed
from asrloop.settings.features import SpeechGateSettings
from asrloop.strict import FieldTypeError
from asrloop.tracking import TrackingSettings, setup
from asrloop.tracking import portable as portable_config
from asrloop.train import config_from_checkpoint
from tests.review_data import ALPHABET
from tests.security.conftest import DROP, data_digest

pytestmark = pytest.mark.security

# ------------------------------------------------------------------ served data is immutable


def user_folder(path: Path, seconds: float = 1.0) -> Path:
    path.mkdir(parents=True)
    tone = 0.1 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE)
    for name in ("a.wav", "b.wav"):
        sf.write(path / name, tone.astype(np.float32), SAMPLE_RATE)
    return path


def test_an_import_over_a_used_drop_is_refused_and_replace_keeps_the_old(project, tmp_path):
    incoming = user_folder(tmp_path / "incoming")
    drop = Drop.at(project.layout, DROP, 0.5, 0)
    before = data_digest(project.root)
    settings = DropImportSettings(incoming, ALPHABET, "en", 1)
    with pytest.raises(ServedDropError, match=rf"{DROP}.*served.*triaged.*replace=true"):
        import_drop(drop, settings, project.layout)
    assert data_digest(project.root) == before  # not one WAV or reference lost

    old_manifest = (project.drop_dir / "manifest.jsonl").read_bytes()
    import_drop(drop, DropImportSettings(incoming, ALPHABET, "en", 1, replace=True), project.layout)
    (kept,) = project.layout.replaced.iterdir()
    assert (kept / DROP / "manifest.jsonl").read_bytes() == old_manifest  # restorable, whole
    assert (kept / f"{DROP}.jsonl").exists()
    assert sorted(r.id for r in read_manifest(drop.manifest, require_text=False)) == ["a", "b"]
    assert not drop.references.exists()  # none given: no empty reference file claiming otherwise


# ------------------------------------------------------------------ the review page


@pytest.fixture
def site(project):
    """(url, access, project): the drop's review page on 127.0.0.1."""
    store = ReviewStore(project.queue, ALPHABET, project.root, (project.drop_dir,))
    access = Access.for_binding("127.0.0.1")
    settings = PageSettings(DROP, reviewer="", low_confidence=0.6, phrases=())
    with ReviewServer(create_app(store, settings, access)) as server:
        yield server.url, access, project


def call(url: str, body=None, headers=None, method=None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"content-type": "application/json", **(headers or {})}
    )
    if method:
        request.method = method
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def add_rows(project, rows: dict[str, str]) -> None:
    """Queue rows whose audio paths an attacker chose (``{id: audio_filepath}``)."""
    jsonl = project.queue / "queue.jsonl"
    lines = [
        json.dumps({"id": clip, "status": "pending", "audio_filepath": path})
        for clip, path in rows.items()
    ]
    jsonl.write_text(jsonl.read_text() + "\n".join(lines) + "\n")


def test_the_page_serves_no_file_outside_the_drop(site):
    url, _, project = site
    (project.drop_dir / "link.wav").symlink_to("/etc/passwd")
    add_rows(
        project,
        {
            "abs": "/etc/passwd",
            "dots": "data/../../../../../../etc/passwd",
            "link": f"data/drops/{DROP}/link.wav",
            "gone": f"data/drops/{DROP}/never-there.wav",
            "shadow": "/etc/shadow",
        },
    )
    before = data_digest(project.root)
    answers = {clip: call(f"{url}/audio/{clip}") for clip in ("abs", "dots", "link", "gone")}
    answers["shadow"] = call(f"{url}/audio/shadow")
    for clip, (status, body) in answers.items():
        assert status == 404, clip
        assert json.loads(body) == {"error": f"clip {clip}: no audio to serve"}  # one answer
    assert call(f"{url}/audio/drop-00001")[0] == 200  # the drop's own audio still plays
    assert data_digest(project.root) == before


def test_saves_have_limits_and_no_formulas(site):
    url, access, project = site
    queue_before = data_digest(project.root)
    tag = json.loads(call(f"{url}/api/rows/drop-00002")[1])["tag"]
    save = {"status": "approved", "reference": "brexit talks", "reviewer": "ann", "seen": tag}
    csrf = {"x-csrf-token": access.csrf}
    attacks = {
        "10 MB name": {**save, "reviewer": "a" * 10_000_000},
        "1.7 M words": {**save, "reference": "word " * 1_700_000},
        "formula": {**save, "reviewer": '=HYPERLINK("http://x")'},
        "plus formula": {**save, "reviewer": "+cmd|' /C calc'!A0"},
        "control": {**save, "reviewer": "ann\x07\x1b[2J"},
        "bad status": {**save, "status": "promoted"},
    }
    for name, body in attacks.items():
        status, answer = call(f"{url}/api/rows/drop-00002", body, csrf)
        assert status == 422, name
        assert b"Traceback" not in answer and str(project.root).encode() not in answer, name
    assert data_digest(project.root) == queue_before
    assert call(f"{url}/api/rows/drop-00002", save, csrf)[0] == 200  # a fair save still works


def test_host_header_token_and_csrf(site):
    url, _, project = site
    before = data_digest(project.root)
    rebinding = call(f"{url}/", headers={"Host": "attacker.example:8765"})
    assert rebinding[0] == 400  # DNS rebinding: another name for this address is not answered
    tag = json.loads(call(f"{url}/api/rows/drop-00001")[1])["tag"]
    save = {"status": "rejected", "reference": "", "reviewer": "eve", "seen": tag}
    assert call(f"{url}/api/rows/drop-00001", save)[0] == 403  # no CSRF token: refused
    forged = {"x-csrf-token": "guess"}
    assert call(f"{url}/api/rows/drop-00001", save, forged)[0] == 403
    assert data_digest(project.root) == before

    with pytest.raises(ConfigError, match=r"review\.token"):
        Access.for_binding("0.0.0.0")  # beyond loopback without a login: refused at start
    with pytest.raises(ConfigError, match="16 characters"):
        Access.for_binding("0.0.0.0", token="short")


def test_a_token_guards_every_request_off_loopback(project):
    store = ReviewStore(project.queue, ALPHABET, project.root, (project.drop_dir,))
    access = Access.for_binding("127.0.0.2", token="s3cret-token-for-the-team")
    settings = PageSettings(DROP, reviewer="", low_confidence=0.6, phrases=())
    with ReviewServer(create_app(store, settings, access), host="127.0.0.2") as server:
        assert call(f"{server.url}/")[0] == 401
        assert call(f"{server.url}/?token=wrong-token-wrong-token")[0] == 401
        bearer = {"Authorization": "Bearer s3cret-token-for-the-team"}
        assert call(f"{server.url}/", headers=bearer)[0] == 200
        request = urllib.request.Request(f"{server.url}/?token=s3cret-token-for-the-team")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert "HttpOnly" in response.headers["set-cookie"]
            assert "SameSite=strict" in response.headers["set-cookie"]


def test_a_duplicated_id_or_a_formula_in_the_csv_is_refused(site):
    url, _, project = site
    csv_file = project.queue / QUEUE_CSV
    lines = csv_file.read_text().splitlines()
    csv_file.write_text("\n".join([*lines, lines[1]]) + "\n")  # the first row again
    os.utime(csv_file)  # edited after the JSON lines: the CSV is what counts now
    before = data_digest(project.root)
    with pytest.raises(DataError, match=r"queue.csv:6: clip 'drop-00001' is also at .*queue.csv:2"):
        read_queue(project.queue)
    status, body = call(f"{url}/")
    assert status == 422 and b"is also at" in body and str(project.root).encode() not in body
    csv_file.write_text("\n".join([*lines[:2], lines[2].replace("drop-00002", "=1+1", 1)]) + "\n")
    os.utime(csv_file)
    with pytest.raises(DataError, match="field 'id' starts with '='"):
        read_queue(project.queue)
    assert data_digest(project.root) != before  # (only the edits above changed it)


# ------------------------------------------------------------------ records and the gate


def candidate(version: str) -> Candidate:
    return Candidate(version, 0.1, 150, 0.2, 40, {})


def decision(version: str, promote: bool) -> GateDecision:
    return GateDecision(promote, "measured", candidate(version), candidate("1"), candidate("1"))


def test_gate_records_are_strict(tmp_path):
    record = tmp_path / "v2.json"
    good = {"schema": GateDecision.schema(), **decision("2", False).to_dict()}
    cases = {
        "promote": {**good, "promote": "false"},
        "state": {**good, "state": "recorded"},
        "challenger.regression_wer": {
            **good,
            "challenger": {**good["challenger"], "regression_wer": "0.1"},
        },
    }
    for field, data in cases.items():
        record.write_text(json.dumps(data))
        with pytest.raises((FieldTypeError, RecordError), match=field.split(".")[-1]):
            GateDecision.load(record)
    record.write_text(json.dumps(good).replace("0.1", "NaN"))
    with pytest.raises(DataError, match="NaN"):
        GateDecision.load(record)


@pytest.fixture
def registry(tmp_path) -> Registry:
    """A real MLflow registry (SQLite) holding versions 1 and 2; 1 is champion."""
    cfg = compose([f"paths.root={tmp_path}"])
    settings = TrackingSettings.resolve(typed(cfg).tracking, tmp_path)
    registry = Registry(settings)
    client = registry.client()
    client.create_registered_model(registry.name)
    for _ in range(2):
        client.create_model_version(registry.name, source=str(tmp_path / "model"))
    registry.set_alias("1", "champion")
    return registry


def test_a_forged_gate_record_is_measured_again_not_obeyed(registry, tmp_path):
    record = tmp_path / "reports" / "gate" / "v2.json"
    record.parent.mkdir(parents=True)
    decision("2", True).write(record)  # well typed, promote true, never decided by the gate
    measured = []

    def evaluate() -> GateDecision:
        measured.append(True)
        return decision("2", False)

    result = gate_version("2", registry, record, evaluate)
    assert measured and not result.promote
    assert registry.alias_version("champion") == "1"
    assert GateDecision.load(record).state == "applied"

    # a genuine half-done decision (the gate died after recording) is completed, not remeasured
    genuine = decision("2", True)
    registry.tag_version("2", DIGEST_TAG, decision_digest(genuine))
    genuine.write(record)
    measured.clear()
    gate_version("2", registry, record, evaluate)
    assert not measured and registry.alias_version("champion") == "2"


# ------------------------------------------------------------------ overrides and model folders


def test_overrides_that_cannot_apply_are_errors():
    with pytest.raises(ConfigError, match=r"model.config.d_model expects int, got 'abc'"):
        typed(compose(["model.config.d_model=abc"]))
    champion = build_model(typed(compose([])).model, 30)
    wanted = typed(compose(["model.config.d_model=96", "model.config.num_layers=2"])).model
    assert architecture_mismatches(wanted, champion) == [
        "model.config.d_model=96 (the model has 128)",
        "model.config.num_layers=2 (the model has 4)",
    ]


def test_a_model_folder_config_follows_its_checkpoint(tmp_path):
    output = ModelOutput(tmp_path / "current")
    output.folder.mkdir()
    torch.save({"config": "model:\n  d_model: 128\n", "digest": "x"}, output.checkpoint)
    output.config.write_text("model:\n  d_model: abc\n")  # written ahead of its weights
    config_from_checkpoint(torch.load(output.checkpoint, weights_only=True), output)
    assert output.config.read_text() == "model:\n  d_model: 128\n"


def test_a_manifest_link_out_of_its_shard_is_refused(tmp_path):
    shard = tmp_path / "shard"
    shard.mkdir()
    (shard / "clip.wav").symlink_to("/etc/passwd")
    row = {"id": "c", "audio_filepath": "clip.wav", "duration": 1.0, "text": "a"}
    (shard / "manifest.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(ManifestError, match="leads out of the shard"):
        read_manifest(shard / "manifest.jsonl", contained=True)


# ------------------------------------------------------------------ serving


def test_serving_reads_no_file_and_answers_the_same_whether_it_exists(transcriber):
    rows = pd.DataFrame({"path": ["/etc/passwd", "/etc/no-such-file", "../../etc/shadow"]})
    answers = transcriber.predict(None, rows)
    errors = [a["error"].split(": ", 1)[1] for a in answers]
    assert len(set(errors)) == 1 and "not allowed" in errors[0] and "/etc" not in errors[0]
    assert all(a["text"] == "" for a in answers)


def test_serving_refuses_an_hour_from_the_header_and_garbage_without_a_trace(transcriber):
    hour = io.BytesIO()
    sf.write(hour, np.zeros(3600 * SAMPLE_RATE, dtype=np.int16), SAMPLE_RATE, format="FLAC")
    text = b"VGhpcyBpcyBub3QgYXVkaW8uIEl0IGlzIGEgYmFzZTY0IHRleHQgZmlsZS4K" * 100
    start = time.process_time()
    long, garbage = transcriber.predict(None, pd.DataFrame({"audio": [hour.getvalue(), text]}))
    assert time.process_time() - start < 1.0  # the header decides: nothing is decoded
    assert "3600 s of audio" in long["error"] and long["text"] == ""
    assert "not an audio file" in garbage["error"] and "Traceback" not in garbage["error"]
    too_many = pd.DataFrame({"audio": [b"x"] * 65})
    with pytest.raises(Exception, match="at most 64") as refused:
        transcriber.predict(None, too_many)
    assert not getattr(refused.value, "stack_trace", None)


def music(seconds: float, rng) -> np.ndarray:
    t = np.arange(int(0.22 * SAMPLE_RATE)) / SAMPLE_RATE
    notes = []
    for _ in range(int(seconds / 0.25)):
        f = rng.choice([262, 294, 330, 349, 392, 440])
        note = np.exp(-6 * t) * sum(0.3 / k * np.sin(2 * np.pi * f * k * t) for k in (1, 2, 3))
        notes += [note, np.zeros(int(0.03 * SAMPLE_RATE))]
    return np.concatenate(notes).astype(np.float32)


def test_no_speech_no_words(recognizer, transcriber):
    rng = np.random.default_rng(0)
    seconds = np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE
    sounds = {
        "ten minutes of silence": np.zeros(600 * SAMPLE_RATE, dtype=np.float32),
        "white noise": (0.1 * rng.standard_normal(10 * SAMPLE_RATE)).astype(np.float32),
        "hum": (0.2 * np.sin(2 * np.pi * 50 * seconds)).astype(np.float32),
        "tone": (0.3 * np.sin(2 * np.pi * 440 * seconds)).astype(np.float32),
        "music-like tones": music(10, rng),
    }
    heard = transcriber.predict(
        None, pd.DataFrame({"audio": [encode_wav(a) for a in sounds.values()]})
    )
    for name, answer in zip(sounds, heard, strict=True):
        assert (answer["text"], answer["confidence"]) == ("", 0.0), name
    speech = synthesize("the council met on monday", VoiceSpec("en-us+klatt2"))
    assert speech_check(speech, SAMPLE_RATE, SpeechGateSettings()).speech
    assert recognizer.has_speech(speech)


# ------------------------------------------------------------------ portable trees


def test_paths_are_logged_and_written_relative_to_the_project(tmp_path):
    root = tmp_path / "project"
    inside, outside = root / "data" / "drops" / "d" / "a.wav", Path("/srv/audio/a.wav")
    assert portable(inside, root) == "data/drops/d/a.wav"
    assert portable(outside, root) == "/srv/audio/a.wav"  # production audio elsewhere: as is
    config = {"paths": {"root": str(root), "data": f"{root}/data"}, "uri": f"sqlite:///{root}/m.db"}
    assert portable_config(config, root) == {
        "paths": {"root": ".", "data": "data"},
        "uri": "sqlite:///m.db",
    }


def test_a_tracking_db_copied_from_another_tree_is_refused(tmp_path):
    original, copy = tmp_path / "original", tmp_path / "copy"
    for root in (original, copy):
        root.mkdir()
    settings = TrackingSettings.resolve(
        typed(compose([f"paths.root={original}"])).tracking, original
    )
    setup(settings)
    shutil.copy(original / "mlflow.db", copy / "mlflow.db")
    before = sorted(p.name for p in original.rglob("*"))
    moved = TrackingSettings.resolve(typed(compose([f"paths.root={copy}"])).tracking, copy)
    with pytest.raises(ConfigError, match="would write into that tree"):
        setup(moved)
    assert sorted(p.name for p in original.rglob("*")) == before


def test_the_review_token_never_reaches_the_params_snapshot(tmp_path):
    secret = "team-token-0123456789abcdef"
    cfg = compose([f"paths.root={tmp_path}", f"review.token={secret}"])
    written = write_params(cfg)
    assert secret not in written.read_text()
    assert OmegaConf.load(written).review.token is None
