"""``asrloop check model``: behavioural tests for a model before it may be promoted.

- invariance: a gain change of +-6 dB or noise at a high SNR keeps test WER within a delta;
- minimum functionality: short phrases from config, synthesized with a training voice, must come
  out exactly;
- regression: WER on the frozen regression set within the gate's delta of the champion's;
- emerging terms: recall on the held-out part of the production drop (numbers; a warning only).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from asrloop import tracking
from asrloop.audio.augment import add_noise, apply_gain, normalize_peak
from asrloop.audio.io import SAMPLE_RATE, read_audio
from asrloop.checks.report import CheckReport, Finding, findings_if
from asrloop.corpus.drop import drop_rows
from asrloop.corpus.manifest import audio_path, iter_corpus
from asrloop.evaluate import load_recognizer, score, transcribe_rows
from asrloop.metrics import wer
from asrloop.serve.recognizer import Recognizer
from asrloop.text.normalize import normalize_text


def transcribe_audio(
    recognizer: Recognizer, audios: Sequence[np.ndarray], batch_seconds: float
) -> list[str]:
    """Texts for in-memory clips, in length-sorted batches of about ``batch_seconds``."""
    texts = [""] * len(audios)
    order = sorted(range(len(audios)), key=lambda i: len(audios[i]))
    batch: list[int] = []
    for position, index in enumerate(order):
        batch.append(index)
        seconds = sum(len(audios[i]) for i in batch) / SAMPLE_RATE
        if seconds >= batch_seconds or position == len(order) - 1:
            outputs = recognizer.transcribe_batch([audios[i] for i in batch])
            for i, out in zip(batch, outputs, strict=True):
                texts[i] = out["text"]
            batch = []
    return texts


def sample_rows(rows: Sequence[dict], limit: int) -> list[dict]:
    """Up to ``limit`` rows spread evenly over the id-sorted list (the same rows every time)."""
    rows = sorted(rows, key=lambda r: str(r.get("id", r["audio_filepath"])))
    step = max(1, len(rows) // max(limit, 1))
    return rows[::step][:limit]


def check_invariance(
    recognizer: Recognizer, rows: Sequence[dict], settings: DictConfig, batch_seconds: float
) -> tuple[list[Finding], dict]:
    """Clean WER against WER after each gain and after added noise."""
    if not rows:
        return [Finding("invariance", "warning", "no test clips to perturb", [])], {}
    refs = [r["text"] for r in rows]
    clean = [read_audio(audio_path(r))[0] for r in rows]
    rng = np.random.default_rng(0)
    variants = {
        f"gain {g:+g} dB": [apply_gain(a, float(g)) for a in clean] for g in settings.gain_db
    }
    snr = float(settings.noise_snr_db)
    variants[f"noise {snr:g} dB SNR"] = [add_noise(a, snr, rng) for a in clean]
    numbers = {
        "clips": len(rows),
        "clean": wer(refs, transcribe_audio(recognizer, clean, batch_seconds)),
    }
    for name, audios in variants.items():
        numbers[name] = wer(refs, transcribe_audio(recognizer, audios, batch_seconds))
    limit = float(settings.max_invariance_wer_delta)
    bad = [
        f"{name}: WER {numbers[name]:.3f} against clean {numbers['clean']:.3f}"
        for name in variants
        if numbers[name] - numbers["clean"] > limit
    ]
    message = f"{{n}} perturbations worsen WER by more than {limit}"
    return findings_if("invariance", "error", message, bad), numbers


def check_phrases(
    recognizer: Recognizer, phrases: Sequence[str], voice: str
) -> tuple[list[Finding], dict]:
    """Each phrase, spoken by ``voice``, must be transcribed exactly."""
    from asrloop.corpus.synthesis import VoiceSpec, synthesize

    expected = [normalize_text(p) for p in phrases]
    audios = [normalize_peak(synthesize(p, VoiceSpec(voice)), 0.7) for p in expected]
    got = transcribe_audio(recognizer, audios, batch_seconds=60.0) if audios else []
    bad = [
        f"{want!r} came out as {out!r}"
        for want, out in zip(expected, got, strict=True)
        if normalize_text(out) != want
    ]
    numbers = {"phrases": len(expected), "exact": len(expected) - len(bad), "voice": voice}
    message = f"{{n}} of {len(expected)} phrases are not transcribed exactly ({voice})"
    return findings_if("minimum_functionality", "error", message, bad), numbers


def regression_wer(recognizer: Recognizer, rows: Sequence[dict], batch_seconds: float) -> float:
    predictions, _ = transcribe_rows(recognizer, rows, batch_seconds, "regression set")
    return wer([p["text"] for p in predictions], [p["pred_text"] for p in predictions])


def check_regression(
    cfg: DictConfig, recognizer: Recognizer, champion_ref: str | None
) -> tuple[list[Finding], dict]:
    """Regression-set WER, within ``gate.max_regression_wer_delta`` of the champion's."""
    rows = list(iter_corpus(cfg.paths.base_corpus, ["regression"]))
    if not rows:
        return [Finding("regression", "warning", "no regression set to score", [])], {}
    batch = float(cfg.evaluate.batch_seconds)
    numbers = {"clips": len(rows), "wer": regression_wer(recognizer, rows, batch)}
    if not champion_ref:
        return [], numbers
    champion, info = load_recognizer(cfg, champion_ref)
    numbers["champion"] = info.get("model_version", info["model"])
    numbers["champion_wer"] = regression_wer(champion, rows, batch)
    limit = float(cfg.gate.max_regression_wer_delta)
    numbers["delta"] = delta = numbers["wer"] - numbers["champion_wer"]
    if delta <= limit:
        return [], numbers
    message = (
        f"regression-set WER {numbers['wer']:.4f} is {delta:+.4f} against the champion's "
        f"{numbers['champion_wer']:.4f} (allowed {limit:+.4f})"
    )
    return [Finding("regression", "error", message, [str(champion_ref)])], numbers


def check_term_recall(cfg: DictConfig, recognizer: Recognizer) -> tuple[list[Finding], dict]:
    """Each emerging term's recall on held-out drop audio; low recall is a warning."""
    rows = drop_rows(cfg, "holdout")
    if not rows:
        return [], {"clips": 0, "note": "no held-out drop audio"}
    predictions, _ = transcribe_rows(
        recognizer, rows, float(cfg.evaluate.batch_seconds), "held-out drop"
    )
    result = score(predictions, list(cfg.scenario.terms))
    numbers = {"clips": len(predictions), "wer": result["wer"], "terms": result["terms"]}
    floor = float(cfg.checks.model.min_term_recall)
    low = [
        f"{term}: recall {stats['recall']:.2f} over {stats['support']} occurrences"
        for term, stats in result["terms"].items()
        if stats["support"] and stats["recall"] < floor
    ]
    message = f"{{n}} emerging terms recalled below {floor:g}"
    return findings_if("emerging_terms", "warning", message, low), numbers


def check_model(cfg: DictConfig, model_ref: str, champion_ref: str | None = None) -> CheckReport:
    """Run the behavioural suite on ``model_ref`` (a model folder or ``registry:<ref>``)."""
    start = time.perf_counter()
    settings = cfg.checks.model
    recognizer, info = load_recognizer(cfg, model_ref)
    report = CheckReport("model", summary={"model": info})
    test_rows = sample_rows(
        list(iter_corpus(cfg.paths.base_corpus, ["test"])), int(settings.max_clips)
    )
    voice = str(settings.get("voice") or cfg.corpus.voices.train[0])
    checks = {
        "invariance": lambda: check_invariance(
            recognizer, test_rows, settings, float(cfg.evaluate.batch_seconds)
        ),
        "minimum_functionality": lambda: check_phrases(recognizer, list(settings.phrases), voice),
        "regression": lambda: check_regression(cfg, recognizer, champion_ref),
        "emerging_terms": lambda: check_term_recall(cfg, recognizer),
    }
    for name, check in checks.items():
        findings, numbers = check()
        report.add(name, findings)
        report.summary[name] = numbers
    report.seconds = time.perf_counter() - start
    return report


def summary_metrics(summary: dict) -> dict[str, float]:
    """The report's numbers as MLflow metrics: ``check_model.regression.wer`` and so on."""
    flat = tracking.flatten({k: v for k, v in summary.items() if k != "model"}, "check_model.")
    return {
        re.sub(r"[^\w./ -]", "_", key): float(value)
        for key, value in flat.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def _record_on_version(cfg: DictConfig, report: CheckReport) -> None:
    """Tag a registered version with the outcome and log the report on its training run."""
    version = report.summary["model"].get("model_version")
    if not version:
        return
    client = tracking.setup(cfg).MlflowClient()
    name = cfg.tracking.registered_model
    outcome = "passed" if report.passed else "failed: " + ", ".join(report.failed_checks())
    client.set_model_version_tag(name, version, "model_checks", outcome)
    run_id = client.get_model_version(name, version).run_id
    if run_id:
        client.log_dict(run_id, report.to_dict(), "checks/model.json")


def run(cfg: DictConfig) -> CheckReport:
    """``asrloop check model`` on ``checks.model.target`` (against ``checks.model.champion``)."""
    settings = cfg.checks.model
    report = check_model(cfg, str(settings.target), settings.champion)
    report.print()
    path = report.write(Path(cfg.paths.reports) / "checks" / "model.json")
    with tracking.step_run(cfg, "check_model"):
        mlflow = tracking.setup(cfg)
        report.log_mlflow(mlflow)
        mlflow.log_metrics(summary_metrics(report.summary))
    _record_on_version(cfg, report)
    if not report.passed:
        raise SystemExit(
            f"model checks failed ({', '.join(report.failed_checks())}): see {path}; "
            "errors block promotion"
        )
    return report
