"""The registered model's MLflow pyfunc: audio in, text with word timings and confidence out.

What ``mlflow models serve -m "models:/<name>@champion"`` runs. A request is a table with one row
per clip: ``audio`` (the bytes of a WAV/FLAC/OGG file, base64 in JSON) or ``path`` (a file the
server can read)::

    {"dataframe_split": {"columns": ["audio"], "data": [["<base64 wav>"]]}}
    {"dataframe_records": [{"path": "/data/clip.flac"}], "params": {"return_words": false}}

and each prediction is ``{"text", "confidence", "words": [{"word", "start", "end",
"confidence"}]}`` (times in seconds). The version carries everything it decodes with: the model
folder (weights, vocabulary, feature settings), the vocabulary folder (lexicon, LM, hot words),
``serving.json`` (the decode and feature config it was registered with), asrloop's own source
(``code_paths``, so the server needs no asrloop install) and pinned requirements.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from asrloop.audio.io import decode_audio, encode_wav, read_audio
from asrloop.errors import DataError
from asrloop.inference.loading import DecodingSetup
from asrloop.model.registry import PyfuncModel
from asrloop.settings.decode import DECODERS, DecodeSettings
from asrloop.settings.features import FeaturesSettings

AUDIO, PATH = "audio", "path"
RETURN_WORDS = "return_words"
EXAMPLE_SECONDS = 3.0
# what the code shipped with the model imports (audio, model, decoders, config) and the server
REQUIREMENTS = (
    "mlflow",
    "torch",
    "torchaudio",
    "transformers",
    "numpy",
    "scipy",
    "pandas",
    "soundfile",
    "hydra-core",
    "omegaconf",
    "pyyaml",
    "flashlight-text",
)


class Transcriber(mlflow.pyfunc.PythonModel):
    """Decodes with the settings of ``serving.json`` and the artifacts logged beside it."""

    def load_context(self, context):
        from asrloop.hardware import pick_device
        from asrloop.inference.recognizer import Recognizer

        settings = json.loads(Path(context.artifacts["serving"]).read_text())
        decode, features = served_settings(settings)
        self.recognizer = Recognizer.from_dirs(
            context.artifacts["model_dir"],
            context.artifacts.get("vocab_dir"),
            decode,
            features,
            float(settings["max_seconds"]),
            device=pick_device("auto"),  # as conf/trainer's default picks it, on the server
        )

    # annotated as a DataFrame, so MLflow serves the explicit signature (a binary column)
    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None):
        requests = model_input.to_dict("records")
        audios = [clip_audio(request, i) for i, request in enumerate(requests)]
        words = (params or {}).get(RETURN_WORDS, True)
        return [
            {
                "text": t.text,
                "confidence": t.confidence,
                **({"words": t.words_as_dicts()} if words else {}),
            }
            for t in self.recognizer.transcribe_batch(audios)
        ]


def served_settings(serving: Mapping[str, Any]) -> tuple[DecodeSettings, FeaturesSettings]:
    """The decode and feature settings a version was registered with, from its ``serving.json``
    (written by :func:`pyfunc_model`)."""
    decode = serving["decode"]
    return DECODERS[decode["type"]](**decode), FeaturesSettings(**serving["features"])


def clip_audio(request: Mapping[str, Any], index: int) -> np.ndarray:
    """A request row's audio at 16 kHz: its ``audio`` bytes, else the file at its ``path``."""
    data, path = request.get(AUDIO), request.get(PATH)
    if isinstance(data, bytes | bytearray) and data:
        return decode_audio(bytes(data), f"request row {index} ({AUDIO})")[0]
    if isinstance(path, str) and path:
        return read_audio(path)[0]
    raise DataError(f"request row {index}: give '{AUDIO}' (file bytes, base64) or '{PATH}'")


def signature():
    """Input: ``audio`` (binary) or ``path`` (string) per row; param ``return_words``; output:
    text, confidence, words."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema
    from mlflow.types.schema import Array, Object, Property

    word = Object(
        [
            Property("word", "string"),
            Property("start", "double"),
            Property("end", "double"),
            Property("confidence", "double"),
        ]
    )
    return ModelSignature(
        inputs=Schema(
            [ColSpec("binary", AUDIO, required=False), ColSpec("string", PATH, required=False)]
        ),
        outputs=Schema(
            [
                ColSpec("string", "text"),
                ColSpec("double", "confidence"),
                ColSpec(Array(word), "words", required=False),
            ]
        ),
        params=ParamSchema([ParamSpec(RETURN_WORDS, "boolean", True)]),
    )


def pinned_requirements() -> list[str]:
    """``name==version`` of what the server needs, as installed here (local labels dropped)."""
    return [f"{name}=={version(name).split('+')[0]}" for name in REQUIREMENTS]


def pyfunc_model(
    setup: DecodingSetup, vocab_dir: Path | None, example_clip: Path | None
) -> PyfuncModel:
    """What :meth:`asrloop.model.registry.Registry.register` logs: the pyfunc, its settings
    (``setup``'s decoding, greedy when no vocabulary ships), signature, an input example (the
    first seconds of ``example_clip``), asrloop's source and pinned requirements."""
    import asrloop

    example = None
    if example_clip is not None:
        audio, rate = read_audio(example_clip)
        example = (
            pd.DataFrame({AUDIO: [encode_wav(audio[: int(EXAMPLE_SECONDS * rate)], rate)]}),
            {RETURN_WORDS: True},
        )
    decode = asdict(setup.decode_for(vocab_dir))
    settings = {
        "decode": {k: v for k, v in decode.items() if k != "tune"},
        "features": asdict(setup.features),
        "max_seconds": setup.max_seconds,
    }
    return PyfuncModel(
        python_model=Transcriber(),
        settings=settings,
        signature=signature(),
        input_example=example,
        code_paths=(str(Path(asrloop.__file__).parent),),
        pip_requirements=tuple(pinned_requirements()),
    )
