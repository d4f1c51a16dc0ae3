"""Evaluation (``asrloop evaluate``): WER/CER per split, voice and slice with 95 % bootstrap
intervals, term recall (with its interval) and precision, RTF.

Writes a predictions manifest (``pred_text``, per-word confidence, the clip's ``errors`` and
``ref_words``) per evaluation set,
``metrics.json`` (:class:`asrloop.records.EvaluationReport`) and the DVC metrics file
(``reports/metrics/eval.json``: WER/CER per set and voice, term recall and precision). Logs it
all to MLflow, linked to the registered model it scored (its LoggedModel page shows the metrics) and
to the corpus version as the dataset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from asrloop.corpus.manifest import Utterance
from asrloop.execution import LOCAL, Executor
from asrloop.inference.batch import PredictionCache, transcribe_utterances
from asrloop.inference.calibration import word_quality
from asrloop.inference.recognizer import Recognizer
from asrloop.jsonio import write_jsonl
from asrloop.metrics import utterance_errors
from asrloop.model.registry import Registry
from asrloop.progress import console
from asrloop.records import ModelInfo, SetScores, TrainingResult
from asrloop.scoring import score

HELD_OUT_SET = "drop_holdout"
REAL_SPEECH_SET = "real_speech"  # recordings of people (evaluate.real_speech), not the corpus


def evaluate_set(
    recognizer: Recognizer,
    name: str,
    rows: Sequence[Utterance],
    terms: Sequence[str],
    batch_seconds: float,
    predictions_file: Path,
    cache: PredictionCache | None = None,
    executor: Executor = LOCAL,
) -> SetScores:
    """Transcribe (the batches run by ``executor``) and score one set; its predictions go to
    ``predictions_file``."""
    predictions, stats = transcribe_utterances(
        recognizer, rows, batch_seconds, f"evaluating {name}", cache, executor
    )
    errors, words = utterance_errors(
        [p.reference for p in predictions], [p.hypothesis for p in predictions]
    )
    rows = (
        {**p.to_dict(), "errors": e, "ref_words": w}
        for p, e, w in zip(predictions, errors, words, strict=True)
    )
    write_jsonl(predictions_file, rows)
    ece, auroc = word_quality(predictions)
    return replace(score(predictions, terms, stats), word_ece=ece, word_auroc=auroc)


def flat_metrics(result: SetScores, name: str) -> dict[str, float]:
    """One set's MLflow metrics: WER, CER, RTF, per voice, per term (names MLflow accepts)."""
    out = {f"{name}_wer": result.wer, f"{name}_cer": result.cer, f"{name}_rtf": result.rtf}
    if result.word_ece is not None:
        out[f"{name}_word_confidence_ece"] = result.word_ece
        out[f"{name}_word_confidence_auroc"] = result.word_auroc
    if result.wer_interval is not None:
        out[f"{name}_wer_low"] = result.wer_interval.low
        out[f"{name}_wer_high"] = result.wer_interval.high
    for kind in ("b_wer", "u_wer"):
        value, interval = getattr(result, kind), getattr(result, f"{kind}_interval")
        if value is not None and (kind == "u_wer" or result.b_words):
            out[f"{name}_{kind}"] = value
        if interval is not None:
            out[f"{name}_{kind}_low"], out[f"{name}_{kind}_high"] = interval.low, interval.high
    if result.false_alarm_rate is not None:
        out[f"{name}_false_alarm_rate"] = result.false_alarm_rate
    for term, stats in result.terms.items():
        key = term.replace(" ", "_")
        if stats.support:
            out[f"{name}_recall_{key}"] = stats.recall
        if stats.recall_interval is not None:
            out[f"{name}_recall_{key}_low"] = stats.recall_interval.low
            out[f"{name}_recall_{key}_high"] = stats.recall_interval.high
        if stats.tp + stats.fp:
            out[f"{name}_precision_{key}"] = stats.precision
        out[f"{name}_false_alarms_{key}"] = float(stats.fp)
    for voice, scores in result.per_voice.items():
        out[f"{name}_wer_voice_{voice.replace('+', '_')}"] = scores.wer
        out[f"{name}_cer_voice_{voice.replace('+', '_')}"] = scores.cer
    for slice_name, scores in result.slices.items():
        key = f"{name}_wer_slice_{slice_name}"
        out[metric_name(key)] = scores.wer
        if scores.wer_interval is not None:
            out[metric_name(f"{key}_high")] = scores.wer_interval.high
    return out


def metric_name(text: str) -> str:
    """An MLflow metric name: letters, digits and ``_ - . /`` only."""
    return re.sub(
        r"[^A-Za-z0-9_\-./]", "_", text.replace("=", "_").replace("<", "lt").replace(">", "ge")
    )


def log_results(mlflow, results: dict[str, SetScores], model_id: str | None, dataset) -> None:
    """Metrics of every set, on the run and, with ``model_id``, on the logged model; corpus
    splits are keyed by the corpus ``dataset``."""
    for name, result in results.items():
        mlflow.log_metrics(
            flat_metrics(result, name),
            model_id=model_id,
            dataset=None if name in (HELD_OUT_SET, REAL_SPEECH_SET) else dataset,
        )


def dvc_metrics(results: dict[str, SetScores]) -> dict:
    """The DVC metrics file: per set WER/CER, per voice WER/CER, per term recall/precision."""
    return {
        name: {
            "wer": r.wer,
            "cer": r.cer,
            "wer_interval": [r.wer_interval.low, r.wer_interval.high] if r.wer_interval else None,
            "b_wer": r.b_wer if r.b_words else None,
            "u_wer": r.u_wer,
            "false_alarm_rate": r.false_alarm_rate,
            "word_confidence": {"ece": r.word_ece, "auroc": r.word_auroc},
            "voices": {v: {"wer": s.wer, "cer": s.cer} for v, s in r.per_voice.items()},
            "slices": {k: {"wer": s.wer, "clips": s.clips} for k, s in r.slices.items()},
            "terms": {
                t: {"recall": s.recall, "precision": s.precision, "false_alarms": s.fp}
                for t, s in r.terms.items()
                if s.support or s.fp
            },
        }
        for name, r in results.items()
    }


def scored_model_id(
    registry: Registry, info: ModelInfo, training_result: Path, model_dir: str
) -> str | None:
    """The MLflow LoggedModel behind what was scored: a registered version, or the model folder
    that training registered (``result.json`` says which version)."""
    version = info.model_version
    if version is None:
        result = TrainingResult.load_if_exists(training_result)
        if result and Path(result.model_dir).resolve() == Path(model_dir).resolve():
            version = result.model_version
    return registry.model_id(version) if version else None


def print_results(results: dict[str, SetScores]) -> None:
    from rich.table import Table

    table = Table(title="evaluation")
    columns = ("set", "clips", "WER", "95 % interval", "CER", "B-WER", "U-WER", "false alarms")
    for column in (*columns, "word ECE", "AUROC", "RTF"):
        table.add_column(column)
    for name, r in results.items():
        interval = r.wer_interval
        span = f"[{interval.low:.3f}, {interval.high:.3f}]" if interval else "-"
        ece = "-" if r.word_ece is None else f"{r.word_ece:.3f}"
        auroc = "-" if r.word_auroc is None else f"{r.word_auroc:.3f}"
        b_wer = f"{r.b_wer:.3f}" if r.b_words and r.b_wer is not None else "-"
        u_wer = "-" if r.u_wer is None else f"{r.u_wer:.3f}"
        alarms = f"{r.false_alarm_clips}/{r.term_free_clips}" if r.term_free_clips else "-"
        scores = (f"{r.wer:.3f}", span, f"{r.cer:.3f}", b_wer, u_wer, alarms)
        table.add_row(name, str(r.n), *scores, ece, auroc, f"{r.rtf:.4f}")
    console.print(table)
