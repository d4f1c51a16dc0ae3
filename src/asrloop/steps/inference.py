"""The context of the steps that decode audio: the decoding setup, recognizers, the cache.

Kept apart from :class:`~asrloop.steps.context.StepContext` so that only the steps that decode
import the inference stack (and only their pipeline stages depend on its code).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from asrloop.inference.batch import PredictionCache
from asrloop.inference.loading import DecodingSetup, load_recognizer
from asrloop.inference.recognizer import Recognizer
from asrloop.settings.decode import DecodeSettings
from asrloop.steps.context import StepContext


class InferenceContext(StepContext):
    """A step context that also builds recognizers the way every step decodes."""

    def decoding(
        self, decode: DecodeSettings | None = None, second_path: bool = False
    ) -> DecodingSetup:
        """``decode``, ``features`` and ``trainer`` (device, precision, threads as training
        picks them); ``decode`` replaces the configured one (e.g. greedy for the label check:
        ``asrloop.inference.loading.GREEDY``)."""
        settings = self.settings
        setup = DecodingSetup.resolve(
            settings.decode if decode is None else decode,
            settings.features,
            self.layout.vocab,
            settings.trainer,
        )
        return replace(setup, second_path=second_path) if second_path else setup

    def recognizer(
        self, ref: str, decode: DecodeSettings | None = None, second_path: bool = False
    ) -> tuple[Recognizer, Any]:
        """A recognizer for a model folder or ``registry:<alias|version>``, with its provenance
        (``second_path``: also decode greedily, for the monitor)."""
        return load_recognizer(str(ref), self.decoding(decode, second_path), self.registry)

    def prediction_cache(self) -> PredictionCache:
        return PredictionCache(self.layout.prediction_cache())
