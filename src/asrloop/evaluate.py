"""``asrloop evaluate``: WER/CER overall, per split and voice, term recall/precision, RTF.

Writes a predictions manifest (``pred_text``, per-word confidence) per evaluation set,
``metrics.json`` (:class:`asrloop.records.EvaluationReport`) and the DVC metrics file
(``evaluate.metrics_file``: WER/CER per set and voice, term recall and precision). Logs it all to
MLflow, linked to the registered model it scored (its LoggedModel page shows the metrics) and
to the corpus version as the dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from asrloop import tracking
from asrloop.config import config_snapshot, drops_so_far
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.faults import fault_point
from asrloop.jsonio import write_json, write_jsonl
from asrloop.model.lineage import log_corpus_input
from asrloop.model.registry import Registry
from asrloop.progress import console
from asrloop.records import EvaluationReport, ModelInfo, SetScores, TrainingResult
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


def flat_metrics(result: SetScores, name: str) -> dict[str, float]:
    """One set's MLflow metrics: WER, CER, RTF, per voice, per term (names MLflow accepts)."""
    out = {f"{name}_wer": result.wer, f"{name}_cer": result.cer, f"{name}_rtf": result.rtf}
    for term, stats in result.terms.items():
        key = term.replace(" ", "_")
        if stats.support:
            out[f"{name}_recall_{key}"] = stats.recall
        if stats.tp + stats.fp:
            out[f"{name}_precision_{key}"] = stats.precision
        out[f"{name}_false_alarms_{key}"] = float(stats.fp)
    for voice, scores in result.per_voice.items():
        out[f"{name}_wer_voice_{voice.replace('+', '_')}"] = scores.wer
        out[f"{name}_cer_voice_{voice.replace('+', '_')}"] = scores.cer
    return out


def log_results(mlflow, results: dict[str, SetScores], model_id: str | None, dataset) -> None:
    """Metrics of every set, on the run and, with ``model_id``, on the logged model; corpus
    splits are keyed by the corpus ``dataset``."""
    for name, result in results.items():
        mlflow.log_metrics(
            flat_metrics(result, name),
            model_id=model_id,
            dataset=None if name == HELD_OUT_SET else dataset,
        )


def dvc_metrics(results: dict[str, SetScores]) -> dict:
    """The DVC metrics file: per set WER/CER, per voice WER/CER, per term recall/precision."""
    return {
        name: {
            "wer": r.wer,
            "cer": r.cer,
            "voices": {v: {"wer": s.wer, "cer": s.cer} for v, s in r.per_voice.items()},
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
    for column in ("set", "clips", "WER", "CER", "RTF"):
        table.add_column(column)
    for name, r in results.items():
        table.add_row(name, str(r.n), f"{r.wer:.3f}", f"{r.cer:.3f}", f"{r.rtf:.4f}")
    console.print(table)


def run(cfg: DictConfig) -> EvaluationReport:
    settings = TrackingSettings.from_config(cfg.tracking, cfg.paths.root)
    setup = DecodingSetup.from_config(cfg.decode, cfg.features, cfg.paths.vocab, cfg.trainer)
    registry = Registry(settings)
    recognizer, info = load_recognizer(str(cfg.evaluate.model), setup, registry)
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
    write_json(cfg.evaluate.metrics_file, dvc_metrics(results))
    print_results(results)
    model_id = scored_model_id(
        registry, info, Path(cfg.train.output_dir) / "result.json", str(cfg.evaluate.model)
    )
    with tracking.step_run(settings, "evaluate", config_snapshot(cfg)):
        mlflow = tracking.setup(settings)
        corpus = log_corpus_input(mlflow, settings.root, Path(cfg.paths.corpus), "evaluation")
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
        log_results(mlflow, results, model_id, corpus)
        mlflow.log_artifacts(str(out_dir), "eval")
    return report
