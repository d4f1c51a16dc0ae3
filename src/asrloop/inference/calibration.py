"""Calibrate a model folder's word confidence on dev, and score confidence on any set.

At the end of training, before the best model is registered, the model transcribes the dev
split with the decoder it is served with; each hypothesis word is right or wrong by the
alignment with the reference; :func:`asrloop.stats.calibration.fit_isotonic` maps raw confidence
to the share of words right, and the map is written into the model folder
(``confidence_map.json``). Every recognizer loaded from the folder (evaluation, the gate, drop
transcription, hence triage and the review page, and the served model, which ships the folder)
reports calibrated confidence. Evaluation scores it on held-out audio (:func:`word_quality`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from asrloop.artifacts import CONFIDENCE_MAP
from asrloop.corpus.manifest import Utterance
from asrloop.inference.batch import Prediction, transcribe_utterances
from asrloop.inference.recognizer import Recognizer
from asrloop.metrics import hypothesis_word_hits
from asrloop.records import CalibrationReport
from asrloop.stats.calibration import (
    apply_map,
    auroc,
    expected_calibration_error,
    fit_isotonic,
)


def word_outcomes(predictions: Sequence[Prediction]) -> tuple[list[float], list[bool]]:
    """Every hypothesis word's confidence, and whether the alignment says it is right."""
    confidence: list[float] = []
    correct: list[bool] = []
    for p in predictions:
        words = p.transcription.words
        hits = hypothesis_word_hits(p.reference, [w.word for w in words])
        confidence += [w.confidence for w in words]
        correct += hits
    return confidence, correct


def word_quality(predictions: Sequence[Prediction]) -> tuple[float | None, float | None]:
    """(ECE, AUROC) of the predictions' word confidence; None without words."""
    confidence, correct = word_outcomes(predictions)
    if not confidence:
        return None, None
    return expected_calibration_error(confidence, correct), auroc(confidence, correct)


def calibrate_model_folder(
    model_dir: Path,
    build: Callable[[Path], Recognizer],
    rows: Sequence[Utterance],
    batch_seconds: float,
) -> CalibrationReport | None:
    """Fit the folder's confidence map on ``rows`` (dev) and write it; None without rows.
    ``build`` loads a recognizer from the folder (the served decoder)."""
    target = Path(model_dir) / CONFIDENCE_MAP
    target.unlink(missing_ok=True)  # fit on the raw confidences
    if not rows:
        return None
    predictions, _ = transcribe_utterances(
        build(Path(model_dir)), rows, batch_seconds, "calibrating word confidence on dev"
    )
    confidence, correct = word_outcomes(predictions)
    mapping = fit_isotonic(confidence, correct)
    calibrated = [apply_map(mapping, c) for c in confidence]
    report = CalibrationReport(
        fitted_on="dev",
        clips=len(predictions),
        words=len(confidence),
        accuracy=float(np.mean(correct)) if correct else 0.0,
        ece_raw=expected_calibration_error(confidence, correct),
        ece=expected_calibration_error(calibrated, correct),
        auroc=auroc(confidence, correct),
        map=mapping,
    )
    report.write(target)
    return report
