"""``asrloop evaluate``: WER/CER overall, per split and voice, term recall/precision, RTF.

Writes a predictions manifest (``pred_text``, per-word confidence) and ``metrics.json`` per
evaluation, and logs everything to MLflow with the model and vocabulary versions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from asrloop import tracking
from asrloop.audio.io import AudioError, read_audio
from asrloop.corpus.drop import drop_rows
from asrloop.corpus.manifest import audio_path, iter_corpus, write_manifest
from asrloop.metrics import cer, group_wer, term_stats, wer
from asrloop.progress import console, progress_bar
from asrloop.serve.recognizer import Recognizer


def load_recognizer(cfg: DictConfig, model_ref: str | None = None) -> tuple[Recognizer, dict]:
    """A recognizer for a model folder or ``registry:<alias|version>``, with its provenance."""
    ref = str(model_ref or cfg.evaluate.model)
    vocab_dir = Path(cfg.paths.vocab) if (Path(cfg.paths.vocab) / "lexicon.txt").exists() else None
    info = {"model": ref}
    if ref.startswith("registry:"):
        from asrloop.model.registry import artifact_dirs, download_version

        local, version = download_version(cfg, ref.removeprefix("registry:"))
        model_dir, registered_vocab = artifact_dirs(local)
        info["model_version"] = version
        vocab_dir = (
            registered_vocab or vocab_dir
        )  # a version decodes with the vocabulary it shipped
    else:
        model_dir = Path(ref)
    decode_cfg = cfg.decode if vocab_dir or cfg.decode.type == "greedy" else {"type": "greedy"}
    if vocab_dir is not None:
        version_file = Path(vocab_dir) / "version.json"
        if version_file.exists():
            info["vocab_version"] = json.loads(version_file.read_text())["vocab_version"]
    recognizer = Recognizer.from_dirs(
        model_dir, vocab_dir, decode_cfg, cfg.features, float(cfg.features.max_seconds)
    )
    return recognizer, info


def transcribe_rows(
    recognizer: Recognizer,
    rows: Sequence[dict],
    batch_seconds: float,
    description: str = "transcribing",
) -> tuple[list[dict], dict]:
    """Transcribe manifest rows in length-sorted batches; unreadable clips are reported, skipped."""
    order = sorted(range(len(rows)), key=lambda i: rows[i].get("duration", 0))
    results: dict[int, dict] = {}
    audio_seconds, compute_seconds, skipped = 0.0, 0.0, []
    with progress_bar(description, len(rows)) as advance:
        batch: list[tuple[int, np.ndarray]] = []
        for position, index in enumerate(order):
            try:
                audio, _ = read_audio(audio_path(rows[index]))
                batch.append((index, audio))
            except AudioError as error:
                skipped.append(str(error))
                console.print(f"[yellow]skipped[/] {error}")
            size = sum(len(a) for _, a in batch) / 16000
            if batch and (size >= batch_seconds or position == len(order) - 1):
                start = time.perf_counter()
                outputs = recognizer.transcribe_batch([a for _, a in batch])
                compute_seconds += time.perf_counter() - start
                audio_seconds += size
                for (i, _), out in zip(batch, outputs, strict=True):
                    results[i] = out
                advance(len(batch))
                batch = []
        advance(len(skipped))
    predictions = []
    for index in range(len(rows)):
        if index in results:
            out = results[index]
            predictions.append(
                {
                    **rows[index],
                    "pred_text": out["text"],
                    "words": out["words"],
                    "confidence": out["confidence"],
                }
            )
    stats = {
        "audio_seconds": audio_seconds,
        "compute_seconds": compute_seconds,
        "rtf": compute_seconds / max(audio_seconds, 1e-9),
        "skipped": len(skipped),
    }
    return predictions, stats


def score(predictions: Sequence[dict], terms: Sequence[str]) -> dict:
    refs = [p["text"] for p in predictions]
    hyps = [p["pred_text"] for p in predictions]
    return {
        "n": len(predictions),
        "wer": wer(refs, hyps),
        "cer": cer(refs, hyps),
        "per_voice": group_wer(predictions, "voice"),
        "terms": term_stats(refs, hyps, list(terms)),
    }


def evaluate_split(cfg, recognizer, name: str, rows: Sequence[dict], out_dir: Path) -> dict:
    predictions, stats = transcribe_rows(
        recognizer, rows, cfg.evaluate.batch_seconds, f"evaluating {name}"
    )
    result = {**score(predictions, list(cfg.scenario.terms)), **stats}
    write_manifest(out_dir / f"{name}.predictions.jsonl", predictions)
    return result


def log_results(mlflow, results: dict[str, dict]) -> None:
    for name, result in results.items():
        mlflow.log_metrics(
            {
                f"{name}_wer": result["wer"],
                f"{name}_cer": result["cer"],
                f"{name}_rtf": result["rtf"],
            }
        )
        for term, stats in result["terms"].items():
            if stats["support"]:
                mlflow.log_metric(f"{name}_recall_{term.replace(' ', '_')}", stats["recall"])
        for voice, voice_wer in result["per_voice"].items():
            mlflow.log_metric(f"{name}_wer_voice_{voice.replace('+', '_')}", voice_wer["wer"])


def print_results(results: dict[str, dict]) -> None:
    from rich.table import Table

    table = Table(title="evaluation")
    for column in ("set", "clips", "WER", "CER", "RTF"):
        table.add_column(column)
    for name, r in results.items():
        table.add_row(name, str(r["n"]), f"{r['wer']:.3f}", f"{r['cer']:.3f}", f"{r['rtf']:.4f}")
    console.print(table)


def run(cfg: DictConfig) -> dict:
    recognizer, info = load_recognizer(cfg)
    out_dir = Path(cfg.evaluate.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for split in cfg.evaluate.splits:
        rows = list(iter_corpus(cfg.paths.base_corpus, [split]))
        results[split] = evaluate_split(cfg, recognizer, split, rows, out_dir)
    held_out = drop_rows(cfg, "holdout")
    if held_out:
        results["drop_holdout"] = evaluate_split(cfg, recognizer, "drop_holdout", held_out, out_dir)
    (out_dir / "metrics.json").write_text(json.dumps({**info, "results": results}, indent=1))
    print_results(results)
    with tracking.step_run(cfg, "evaluate") as _:
        mlflow = tracking.setup(cfg)
        mlflow.set_tags({k: v for k, v in info.items() if k != "model"})
        log_results(mlflow, results)
        mlflow.log_artifacts(str(out_dir), "eval")
    return results
