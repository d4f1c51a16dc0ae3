"""The registered model's MLflow pyfunc: audio in, text with word timings and confidence out.

What ``mlflow models serve -m "models:/<name>@champion"`` runs. A request is a table with one row
per clip: ``audio`` (the bytes of a WAV/FLAC/OGG file, base64 in JSON) or ``path`` (a file the
server can read)::

    {"dataframe_split": {"columns": ["audio"], "data": [["<base64 wav>"]]}}
    {"dataframe_records": [{"path": "/data/clip.flac"}], "params": {"return_words": false}}

and each prediction is ``{"text", "confidence", "words": [{"word", "start", "end",
"confidence"}]}`` (times in seconds). The param ``phrases`` (comma-separated: names, product
words) biases this request's beam search towards them with a context graph
(``decode.bias``; words outside the version's lexicon cannot be written and are left out).
A row the server refuses (undecodable, too long or too big, a ``path`` outside the allowed
roots) gets empty text and an ``error`` saying why; the other rows
are transcribed. ``path`` is refused unless the version's ``transcribe.serving.path_roots`` (or
``ASRLOOP_SERVING_PATH_ROOTS`` where the server runs) allows the folder, with the same answer
whether the file exists or not. No answer carries a stack trace or a server path.

The version carries everything it decodes with: the model folder (weights, vocabulary, feature
settings), the vocabulary folder (lexicon, LM, hot words),
``serving.json`` (the decode and feature config it was registered with), asrloop's own source
(``code_paths``, so the server needs no asrloop install) and pinned requirements.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from asrloop.audio.io import decode_audio, encode_wav, read_audio
from asrloop.errors import DataError
from asrloop.fsutil import inside_any
from asrloop.inference.loading import DecodingSetup
from asrloop.model.registry import PyfuncModel
from asrloop.settings.decode import DECODERS, BiasSettings, DecodeSettings, TermCheckSettings
from asrloop.settings.features import FeaturesSettings, SpeechGateSettings
from asrloop.settings.transcribe import ServingLimits

AUDIO, PATH = "audio", "path"
RETURN_WORDS = "return_words"
PHRASES = "phrases"
MAX_PHRASES = 1000  # per request
REQUEST_BONUS = 2.0  # per matched word, when the version itself biases nothing (README: 2 keeps
# U-WER within 0.3 points with 1,000 phrases, 4 costs 1.5 to 2 points)
BIASED_DECODERS = 8  # the last few requests' phrase lists keep their decoders
PATH_ROOTS_ENV = "ASRLOOP_SERVING_PATH_ROOTS"
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
        self.decode, self.vocab_dir = decode, context.artifacts.get("vocab_dir")
        self.biased: dict[tuple[str, ...], Any] = {}
        self.limits = RequestLimits.of(settings, features)
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
        limits = self.limits
        if len(requests) > limits.max_rows:
            raise refused(f"{len(requests)} rows; a request takes at most {limits.max_rows}")
        words = (params or {}).get(RETURN_WORDS, True)
        decoder = self.decoder_for(str((params or {}).get(PHRASES) or ""))
        audios, errors = {}, {}
        for index, request in enumerate(requests):
            try:
                audios[index] = clip_audio(request, index, limits)
            except DataError as error:
                errors[index] = str(error)
            except Exception:  # never a trace to the client
                errors[index] = f"request row {index}: the audio could not be read"
        heard = self.recognizer.transcribe_batch(list(audios.values()), decoder)
        done = dict(zip(audios, heard, strict=True))
        empty = {"text": "", "confidence": 0.0, **({"words": []} if words else {})}
        return [
            {**empty, "error": errors[i]}
            if i in errors
            else {
                "text": done[i].text,
                "confidence": done[i].confidence,
                **({"words": done[i].words_as_dicts()} if words else {}),
            }
            for i in range(len(requests))
        ]

    def decoder_for(self, phrases: str):
        """A decoder biased towards the request's phrases (None: the version's own)."""
        from asrloop.decode import build_decoder
        from asrloop.text.normalize import normalize_text

        listed = tuple(dict.fromkeys(p for p in map(normalize_text, phrases.split(",")) if p))
        if not listed or self.decode.type != "lexicon" or not self.vocab_dir:
            return None
        if len(listed) > MAX_PHRASES:
            raise refused(f"{len(listed)} phrases; a request takes at most {MAX_PHRASES}")
        if listed not in self.biased:
            bias = self.decode.bias
            bias = replace(bias, extra=[*bias.extra, *listed], bonus=bias.bonus or REQUEST_BONUS)
            decoder = build_decoder(
                replace(self.decode, bias=bias), self.recognizer.tokenizer, self.vocab_dir
            )
            self.biased = {
                **dict(list(self.biased.items())[-(BIASED_DECODERS - 1) :]),
                listed: decoder,
            }
        return self.biased[listed]


def served_settings(serving: Mapping[str, Any]) -> tuple[DecodeSettings, FeaturesSettings]:
    """The decode and feature settings a version was registered with, from its ``serving.json``
    (written by :func:`pyfunc_model`); a version registered before the speech gate keeps the
    default gate."""
    decode = serving["decode"]
    features = dict(serving["features"])
    features["speech_gate"] = SpeechGateSettings(**features.get("speech_gate", {}))
    if decode["type"] == "lexicon":  # registered before biasing: no phrases of its own
        bias = decode.get("bias") or {"phrases": [], "extra": [], "bonus": 0.0}
        bias = {"mode": "graph", **bias}  # registered before the modes: the graph it had
        # registered before the term check: decoded as it was then, without one
        check = decode.get("term_check") or {"enabled": False, "terms": []}
        # registered before the check's second chance by sound: letters only, as then
        check = {"max_sound_distance": 0.0, "language": "en", **check}
        decode = {**decode, "bias": BiasSettings(**bias), "term_check": TermCheckSettings(**check)}
    return DECODERS[decode["type"]](**decode), FeaturesSettings(**features)


def refused(message: str):
    """A request-level refusal: HTTP 400 with ``message`` and no stack trace."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import BAD_REQUEST

    return MlflowException(message, error_code=BAD_REQUEST)


@dataclass(frozen=True)
class RequestLimits:
    """What one request may ask of the server (``transcribe.serving`` and ``features``)."""

    max_rows: int = ServingLimits.max_rows
    max_clip_bytes: int = int(ServingLimits.max_clip_mb * 2**20)
    max_file_seconds: float = 1800.0
    path_roots: tuple[Path, ...] = ()

    @classmethod
    def of(cls, serving: Mapping[str, Any], features: FeaturesSettings) -> RequestLimits:
        """From a version's ``serving.json``; ``ASRLOOP_SERVING_PATH_ROOTS`` overrides roots."""
        limits = serving.get("limits", {})
        roots = limits.get("path_roots", [])
        if os.environ.get(PATH_ROOTS_ENV):
            roots = [r for r in os.environ[PATH_ROOTS_ENV].split(os.pathsep) if r]
        return cls(
            int(limits.get("max_rows", cls.max_rows)),
            int(float(limits.get("max_clip_mb", cls.max_clip_bytes / 2**20)) * 2**20),
            float(features.max_file_seconds),
            tuple(Path(r) for r in roots),
        )


def clip_audio(
    request: Mapping[str, Any], index: int, limits: RequestLimits = RequestLimits()
) -> np.ndarray:
    """A request row's audio at 16 kHz: its ``audio`` bytes, else the file at its ``path``
    (inside ``limits.path_roots`` only); too big or too long is refused from the header."""
    data, path = request.get(AUDIO), request.get(PATH)
    where = f"request row {index}"
    if isinstance(data, bytes | bytearray) and data:
        if len(data) > limits.max_clip_bytes:
            raise DataError(f"{where}: {len(data)} bytes; at most {limits.max_clip_bytes}")
        _refuse_long(sf_info(io.BytesIO(data), where), limits, where)
        return decode_audio(bytes(data), f"{where} ({AUDIO})")[0]
    if isinstance(path, str) and path:
        file = inside_any(path, "/", limits.path_roots)
        if file is None:
            raise DataError(f"{where}: '{PATH}' is not allowed here (send the audio bytes)")
        if not file.is_file():
            raise DataError(f"{where}: no audio file at that '{PATH}'")
        if file.stat().st_size > limits.max_clip_bytes:
            raise DataError(f"{where}: the file is larger than {limits.max_clip_bytes} bytes")
        _refuse_long(sf_info(file, where), limits, where)
        return read_audio(file)[0]
    raise DataError(f"{where}: give '{AUDIO}' (file bytes, base64) or '{PATH}'")


def sf_info(source, where: str):
    """The audio header (rate, frames) without decoding; unreadable is a clear refusal."""
    import soundfile as sf

    try:
        return sf.info(source)
    except Exception as error:  # soundfile raises several types for broken files
        raise DataError(f"{where}: not an audio file soundfile can read") from error


def _refuse_long(info, limits: RequestLimits, where: str) -> None:
    seconds = info.frames / info.samplerate if info.samplerate else float("inf")
    if not seconds <= limits.max_file_seconds:
        raise DataError(
            f"{where}: {seconds:.0f} s of audio; the server takes at most "
            f"{limits.max_file_seconds:.0f} s per clip"
        )


def signature():
    """Input: ``audio`` (binary) or ``path`` (string) per row; param ``return_words``; output:
    text, confidence, words (and ``error`` on a refused row)."""
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
                ColSpec("string", "error", required=False),  # a refused row: why
            ]
        ),
        params=ParamSchema(
            [ParamSpec(RETURN_WORDS, "boolean", True), ParamSpec(PHRASES, "string", "")]
        ),
    )


def pinned_requirements() -> list[str]:
    """``name==version`` of what the server needs, as installed here (local labels dropped)."""
    return [f"{name}=={version(name).split('+')[0]}" for name in REQUIREMENTS]


def pyfunc_model(
    setup: DecodingSetup,
    vocab_dir: Path | None,
    example_clip: Path | None,
    limits: ServingLimits | None = None,
) -> PyfuncModel:
    """What :meth:`asrloop.model.registry.Registry.register` logs: the pyfunc, its settings
    (``setup``'s decoding, greedy when no vocabulary ships; the request ``limits``), signature,
    an input example (the first seconds of ``example_clip``), asrloop's source and pinned
    requirements."""
    limits = limits or ServingLimits()
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
        "limits": asdict(limits),
    }
    return PyfuncModel(
        python_model=Transcriber(),
        settings=settings,
        signature=signature(),
        input_example=example,
        code_paths=(str(Path(asrloop.__file__).parent),),
        pip_requirements=tuple(pinned_requirements()),
    )
