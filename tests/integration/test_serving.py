"""The registered version as a service: ``mlflow models serve`` on the champion, in a Python
environment where asrloop is not installed (the model ships its code), answers posted clips
(WAV and FLAC bytes, or a path) with text, word timings and confidence, the same as asrloop's
own recognizer decoding with the settings the version was registered with."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import mlflow
import pytest
import soundfile as sf
import yaml
from omegaconf import OmegaConf

from asrloop.audio.io import encode_wav, read_audio
from asrloop.corpus.manifest import iter_corpus
from asrloop.decode import build_decoder
from asrloop.inference.model_server import served_model, transcribe_over_http
from asrloop.inference.pyfunc import PATH_ROOTS_ENV, REQUEST_BONUS
from asrloop.inference.recognizer import Recognizer
from asrloop.model.registry import Registry
from asrloop.settings import typed
from asrloop.tracking import TrackingSettings
from tests.helpers import (
    FAST_TRAINING,
    TINY_CORPUS,
    free_port,
    python_without_asrloop,
    tracking_uri,
    trained_project,
)


@pytest.fixture(scope="module")
def champion(tiny_corpus, tmp_path_factory):
    """A model trained briefly on the tiny corpus, registered and aliased ``champion``."""
    root = tmp_path_factory.mktemp("serving")
    overrides = (*TINY_CORPUS, *FAST_TRAINING, "train.max_steps=60")
    cfg = trained_project(tiny_corpus[1], root, *overrides)
    registry = Registry(TrackingSettings.resolve(typed(cfg).tracking, cfg.paths.root))
    registry.set_alias(registry.resolve("1"), "champion")
    return cfg, registry


def model_uri(registry: Registry) -> str:
    return f"models:/{registry.name}@champion"


def flac(audio) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio, 16000, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def test_version_carries_settings_signature_example_code_and_pins(champion, tmp_path):
    cfg, registry = champion
    mlflow.set_tracking_uri(tracking_uri(cfg))
    local = mlflow.artifacts.download_artifacts(model_uri(registry), dst_path=str(tmp_path))
    folder = next(p.parent for p in tmp_path.rglob("MLmodel"))
    assert str(folder).startswith(local.rstrip("/"))
    settings = json.loads(next(folder.rglob("serving.json")).read_text())
    decode = OmegaConf.to_container(cfg.decode, resolve=True)
    expected_decode = {k: v for k, v in decode.items() if k not in ("tune", "bias", "term_check")}
    assert settings["decode"].pop("bias") == decode["bias"]  # the phrases resolved
    assert settings["decode"].pop("term_check") == decode["term_check"]  # the terms resolved
    assert settings["decode"] == pytest.approx(expected_decode)
    assert settings["features"]["n_mels"] == cfg.features.n_mels
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    assert mlmodel["flavors"]["python_function"]["code"] == "code"
    inputs = json.loads(mlmodel["signature"]["inputs"])
    assert {(c["name"], c["type"]) for c in inputs} == {("audio", "binary"), ("path", "string")}
    assert (folder / "code" / "asrloop" / "inference" / "pyfunc.py").is_file()
    assert (folder / "serving_input_example.json").is_file()
    requirements = (folder / "requirements.txt").read_text().split()
    assert "torch==2.14.1" in requirements and "asrloop" not in " ".join(requirements)
    assert all("==" in r for r in requirements if not r.startswith("-"))
    assert any(p.name == "lexicon.txt" for p in folder.rglob("*"))  # the vocabulary ships


def test_served_champion_transcribes_posted_clips(champion, tmp_path):
    cfg, registry = champion
    bin_dir = python_without_asrloop(tmp_path / "env")
    probe = [
        str(bin_dir / "python"),
        "-c",
        "import importlib.util as u; print(u.find_spec('asrloop'))",
    ]
    assert subprocess.run(probe, capture_output=True, text=True).stdout.strip() == "None"
    assert importlib.util.find_spec("asrloop") is not None  # but it is here

    rows = list(iter_corpus(cfg.paths.base_corpus, ["test"]))[:3]
    audios = [read_audio(r.audio_path)[0] for r in rows]
    settings = typed(cfg)
    with registry.checkout("champion") as checked:
        local = Recognizer.from_dirs(
            checked.model_dir,
            checked.vocab_dir,
            settings.decode,
            settings.features,
            float(settings.features.max_seconds),
        )
        expected = local.transcribe_batch(audios)
        # a request's phrases: the words it hears, as the server biases towards them
        said = list(dict.fromkeys(expected[0].text.split()))
        bias = replace(settings.decode.bias, extra=said, bonus=REQUEST_BONUS)
        decoder = build_decoder(
            replace(settings.decode, bias=bias), local.tokenizer, checked.vocab_dir
        )
        expected_biased = local.transcribe_batch(audios[:1], decoder)
    assert any(t.words for t in expected)

    log = tmp_path / "server.log"
    corpus = str(Path(cfg.paths.base_corpus).resolve())
    env = {PATH_ROOTS_ENV: corpus}  # the one folder whose files requests may name
    uri, tracking = model_uri(registry), tracking_uri(cfg)
    with served_model(uri, tracking, free_port(), log, bin_dir, env=env) as url:
        got = transcribe_over_http(
            url, [encode_wav(audios[0]), flac(audios[1])], paths=[str(rows[2].audio_path)]
        )
        brief = transcribe_over_http(url, [encode_wav(audios[0])], params={"return_words": False})
        phrases = {"phrases": ",".join(said)}
        biased = transcribe_over_http(url, [encode_wav(audios[0])], params=phrases)
        empty, outside, missing = transcribe_over_http(
            url, paths=["", "/etc/passwd", "/etc/no-such-file"]
        )
    assert "'audio'" in empty["error"] and empty["text"] == ""
    assert outside["error"] == missing["error"].replace("row 2", "row 1")  # exists or not: same
    assert "not allowed" in outside["error"] and "/etc" not in outside["error"]
    for prediction, transcription in zip(got, expected, strict=True):
        assert prediction["text"] == transcription.text
        assert prediction["confidence"] == transcription.confidence
        assert prediction["words"] == transcription.words_as_dicts()
    assert brief == [{"text": expected[0].text, "confidence": expected[0].confidence}]
    assert biased[0]["text"] == expected_biased[0].text and "error" not in biased[0]
    words = [w for p in got for w in p["words"]]
    assert all(0 <= w["start"] < w["end"] and 0 <= w["confidence"] <= 1 for w in words)
