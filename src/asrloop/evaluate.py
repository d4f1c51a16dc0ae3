"""``asrloop evaluate``: WER/CER overall, per split and voice, term recall/precision, RTF.

Writes a predictions manifest (``pred_text``, per-word confidence) per evaluation set and
``metrics.json`` (:class:`asrloop.records.EvaluationReport`), and logs everything to MLflow with
the model and vocabulary versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from asrloop import tracking
from asrloop.config import config_snapshot, drops_so_far
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.faults import fault_point
from asrloop.jsonio import write_jsonl
from asrloop.model.registry import Registry
from asrloop.progress import console
from asrloop.records import EvaluationReport, SetScores
from asrloop.scoring import score
from asrloop.serve.batch import PredictionCache, transcribe_utterances
from asrloop.serve.loading import DecodingSetup, load_recognizer
from asrloop.serve.recognizer import Recognizer
from asrloop.tracking import TrackingSettings

METRICS_FILE = "metrics.json"
HELD_OUT_SET = "drop_holdout"


def evaluate_set(
    recognizer: Recognizer,
    name: str,
    rows: Sequence[Utterance],
    terms: Sequence[str],
    batch_seconds: float,
    out_dir: Path,
    cache: PredictionCache | None = None,
) -> SetScores:
    """Transcribe and score one set; its predictions go to ``<name>.predictions.jsonl``."""
    predictions, stats = transcribe_utterances(
        recognizer, rows, batch_seconds, f"evaluating {name}", cache
    )
    write_jsonl(out_dir / f"{name}.predictions.jsonl", (p.to_dict() for p in predictions))
    return score(predictions, terms, stats)


def log_results(mlflow, results: dict[str, SetScores]) -> None:
    for name, result in results.items():
        mlflow.log_metrics(
            {f"{name}_wer": result.wer, f"{name}_cer": result.cer, f"{name}_rtf": result.rtf}
        )
        for term, stats in result.terms.items():
            key = term.replace(" ", "_")
            if stats.support:
                mlflow.log_metric(f"{name}_recall_{key}", stats.recall)
            if stats.tp + stats.fp:
                mlflow.log_metric(f"{name}_precision_{key}", stats.precision)
            mlflow.log_metric(f"{name}_false_alarms_{key}", stats.fp)
        for voice, voice_scores in result.per_voice.items():
            mlflow.log_metric(f"{name}_wer_voice_{voice.replace('+', '_')}", voice_scores.wer)


def print_results(results: dict[str, SetScores]) -> None:
    from rich.table import Table

    table = Table(title="evaluation")
    for column in ("set", "clips", "WER", "CER", "RTF"):
        table.add_column(column)
    for name, r in results.items():
        table.add_row(name, str(r.n), f"{r.wer:.3f}", f"{r.cer:.3f}", f"{r.rtf:.4f}")
    console.print(table)


def run(cfg: DictConfig) -> EvaluationReport:
    settings = TrackingSettings.from_config(cfg.tracking, cfg.paths.root)
    setup = DecodingSetup.from_config(cfg.decode, cfg.features, cfg.paths.vocab)
    recognizer, info = load_recognizer(str(cfg.evaluate.model), setup, Registry(settings))
    out_dir = Path(cfg.evaluate.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    terms, batch = list(cfg.scenario.terms), float(cfg.evaluate.batch_seconds)
    cache = PredictionCache(Path(cfg.paths.cache) / "predictions")
    results = {}
    for split in cfg.evaluate.splits:
        rows = list(iter_corpus(cfg.paths.base_corpus, [split]))
        results[split] = evaluate_set(recognizer, split, rows, terms, batch, out_dir, cache)
    held_out = [clip for drop in drops_so_far(cfg) for clip in drop.clips("holdout")]
    if held_out:
        results[HELD_OUT_SET] = evaluate_set(
            recognizer, HELD_OUT_SET, held_out, terms, batch, out_dir, cache
        )
    report = EvaluationReport(info, results)
    fault_point("evaluate.before_metrics")
    report.write(out_dir / METRICS_FILE)
    print_results(results)
    with tracking.step_run(settings, "evaluate", config_snapshot(cfg)):
        mlflow = tracking.setup(settings)
        mlflow.set_tags(
            {
                k: v
                for k, v in (
                    ("model_version", info.model_version),
                    ("vocab_version", info.vocab_version),
                )
                if v
            }
        )
        log_results(mlflow, results)
        mlflow.log_artifacts(str(out_dir), "eval")
    return report
