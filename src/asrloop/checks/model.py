"""Model checks (``asrloop check model``): behavioural tests for a model before it may be promoted.

- invariance: a gain change of +-6 dB or noise at a high SNR keeps test WER within a delta;
- minimum functionality: short phrases from config, synthesized with a training voice, must come
  out exactly (a phrase the champion misses as well is a warning: known, not new);
- regression: WER on the frozen regression set within the gate's delta of the champion's;
- emerging terms: recall on the held-out part of the production drop (numbers; a warning only).

The regression and held-out numbers are measured once by the caller (the gate measures them for
its own rule) and passed in as :class:`Evidence`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from asrloop import tracking
from asrloop.artifacts import MODEL_CHECKS_ARTIFACT
from asrloop.audio.augment import add_noise, apply_gain, normalize_peak
from asrloop.audio.io import read_audio
from asrloop.checks.report import CheckReport, Finding, findings_if
from asrloop.corpus.manifest import Utterance
from asrloop.inference.batch import transcribe_audio, transcribe_utterances
from asrloop.inference.recognizer import Recognizer
from asrloop.metrics import wer
from asrloop.model.registry import Registry
from asrloop.records import ModelInfo, SetScores
from asrloop.scoring import score
from asrloop.settings.checks import ModelChecksSettings
from asrloop.text.normalize import normalize_text


@dataclass(frozen=True)
class RegressionComparison:
    """Regression-set WER of the model, and of the champion when there is one."""

    clips: int
    wer: float
    champion: str | None = None
    champion_wer: float | None = None

    @property
    def delta(self) -> float | None:
        return None if self.champion_wer is None else self.wer - self.champion_wer


@dataclass(frozen=True)
class Evidence:
    """What the checks reuse instead of transcribing again."""

    regression: RegressionComparison | None
    heldout: SetScores | None


def sample_rows(rows: Sequence[Utterance], limit: int) -> list[Utterance]:
    """Up to ``limit`` rows spread evenly over the id-sorted list (the same rows every time)."""
    rows = sorted(rows, key=lambda r: r.id)
    step = max(1, len(rows) // max(limit, 1))
    return rows[::step][:limit]


def check_invariance(
    recognizer: Recognizer,
    rows: Sequence[Utterance],
    settings: ModelChecksSettings,
    batch_seconds: float,
) -> tuple[list[Finding], dict]:
    """Clean WER against WER after each gain and after added noise."""
    if not rows:
        return [Finding("invariance", "warning", "no test clips to perturb", [])], {}
    refs = [r.text or "" for r in rows]
    clean = [read_audio(r.audio_path, segment=r.segment)[0] for r in rows]
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
    recognizer: Recognizer,
    phrases: Sequence[str],
    voices: Sequence[str],
    reference: Recognizer | None = None,
) -> tuple[list[Finding], dict]:
    """Each phrase, spoken by each of ``voices``, must be transcribed exactly; a phrase is
    missed when it comes out wrong in most of its voices (one clip is one draw of the model's
    noise; a lost capability shows in most voices).

    With a ``reference`` model (the champion), a phrase that it misses as well is a known
    failure, reported as a warning: the check blocks what a challenger breaks, not what it
    inherits.
    """
    from asrloop.corpus.synthesis import VoiceSpec, synthesize

    expected = [normalize_text(p) for p in phrases]
    clips = [(i, v) for i in range(len(expected)) for v in voices]
    audios = [normalize_peak(synthesize(expected[i], VoiceSpec(v)), 0.7) for i, v in clips]

    def misses(model: Recognizer) -> dict[int, str]:
        got = transcribe_audio(model, audios, batch_seconds=60.0) if audios else []
        wrong: dict[int, list[str]] = {}
        for (i, voice), out in zip(clips, got, strict=True):
            if normalize_text(out) != expected[i]:
                wrong.setdefault(i, []).append(f"{out!r} ({voice})")
        return {
            i: f"{expected[i]!r} came out as {', '.join(outs)}"
            for i, outs in wrong.items()
            if len(outs) * 2 > len(voices)
        }

    missed = misses(recognizer)
    known = set(misses(reference)) if reference is not None and missed else set()
    new = [text for i, text in missed.items() if i not in known]
    inherited = [text for i, text in missed.items() if i in known]
    numbers = {
        "phrases": len(expected),
        "exact": len(expected) - len(missed),
        "missed_by_champion_too": len(inherited),
        "voices": list(voices),
    }
    spoken = f"wrong in most of {len(voices)} voices"
    message = f"{{n}} of {len(expected)} phrases are not transcribed exactly ({spoken})"
    known_message = f"{{n}} of {len(expected)} phrases are missed by the champion too ({spoken})"
    findings = findings_if("minimum_functionality", "error", message, new)
    findings += findings_if("minimum_functionality", "warning", known_message, inherited)
    return findings, numbers


def measure_regression(
    recognizer: Recognizer, rows: Sequence[Utterance], batch_seconds: float, label: str
) -> float:
    predictions, _ = transcribe_utterances(recognizer, rows, batch_seconds, label)
    return wer([p.reference for p in predictions], [p.hypothesis for p in predictions])


def check_regression(
    comparison: RegressionComparison | None, limit: float
) -> tuple[list[Finding], dict]:
    """Regression-set WER, within ``limit`` (``gate.max_regression_wer_delta``) of the
    champion's."""
    if comparison is None or comparison.clips == 0:
        return [Finding("regression", "warning", "no regression set to score", [])], {}
    numbers = {"clips": comparison.clips, "wer": comparison.wer}
    if comparison.champion is None:
        return [], numbers
    delta = comparison.delta
    numbers.update(champion=comparison.champion, champion_wer=comparison.champion_wer)
    numbers["delta"] = delta
    if delta <= limit:
        return [], numbers
    message = (
        f"regression-set WER {comparison.wer:.4f} is {delta:+.4f} against the champion's "
        f"{comparison.champion_wer:.4f} (allowed {limit:+.4f})"
    )
    return [Finding("regression", "error", message, [comparison.champion])], numbers


def check_term_recall(heldout: SetScores | None, floor: float) -> tuple[list[Finding], dict]:
    """Each emerging term's recall on held-out drop audio; low recall is a warning."""
    if heldout is None or heldout.n == 0:
        return [], {"clips": 0, "note": "no held-out drop audio"}
    terms = {t: asdict(s) for t, s in heldout.terms.items()}
    numbers = {"clips": heldout.n, "wer": heldout.wer, "terms": terms}
    low = [
        f"{term}: recall {stats.recall:.2f} over {stats.support} occurrences"
        for term, stats in heldout.terms.items()
        if stats.support and stats.recall < floor
    ]
    message = f"{{n}} emerging terms recalled below {floor:g}"
    return findings_if("emerging_terms", "warning", message, low), numbers


def check_model(
    recognizer: Recognizer,
    info: ModelInfo,
    settings: ModelChecksSettings,
    test_rows: Sequence[Utterance],
    evidence: Evidence,
    regression_limit: float,
    batch_seconds: float,
    champion: Recognizer | None = None,
) -> CheckReport:
    """Run the behavioural suite (``settings``: ``checks.model``) on one loaded model; with the
    ``champion`` loaded, phrases it misses too are warnings, not errors."""
    start = time.perf_counter()
    report = CheckReport("model", summary={"model": asdict(info)})
    voices = [str(v) for v in settings.voices]
    checks = {
        "invariance": lambda: check_invariance(
            recognizer, sample_rows(test_rows, int(settings.max_clips)), settings, batch_seconds
        ),
        "minimum_functionality": lambda: check_phrases(
            recognizer, list(settings.phrases), voices, champion
        ),
        "regression": lambda: check_regression(evidence.regression, regression_limit),
        "emerging_terms": lambda: check_term_recall(
            evidence.heldout, float(settings.min_term_recall)
        ),
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


def record_on_version(registry: Registry, report: CheckReport) -> None:
    """Tag a registered version with the outcome and log the report on its training run."""
    version = report.summary["model"].get("model_version")
    if not version:
        return
    outcome = "passed" if report.passed else "failed: " + ", ".join(report.failed_checks())
    registry.tag_version(version, "model_checks", outcome)
    run_id = registry.run_id(version)
    if run_id:
        registry.client().log_dict(run_id, report.to_dict(), MODEL_CHECKS_ARTIFACT)


def compare_regression(
    recognizer: Recognizer,
    rows: Sequence[Utterance],
    batch_seconds: float,
    champion: tuple[Recognizer, ModelInfo] | None = None,
) -> RegressionComparison | None:
    """Regression-set WER of the model (and of the champion, when given); None without rows."""
    if not rows:
        return None
    model_wer = measure_regression(recognizer, rows, batch_seconds, "regression set")
    if champion is None:
        return RegressionComparison(len(rows), model_wer)
    champion_wer = measure_regression(champion[0], rows, batch_seconds, "champion")
    name = champion[1].model_version or champion[1].model
    return RegressionComparison(len(rows), model_wer, name, champion_wer)


def heldout_scores(
    recognizer: Recognizer, rows: Sequence[Utterance], terms: Sequence[str], batch_seconds: float
) -> SetScores | None:
    """Scores on the held-out drop audio (None without it)."""
    if not rows:
        return None
    predictions, _ = transcribe_utterances(recognizer, rows, batch_seconds, "held-out drop")
    return score(predictions, list(terms))


def log_report(mlflow, report: CheckReport) -> None:
    report.log_mlflow(mlflow)
    mlflow.log_metrics(summary_metrics(report.summary))
