"""``asrloop check labels``: a model-assisted label check (the ML Test Score idea).

The champion transcribes training clips (greedy, so the language model cannot paper over a
wrong label); a clip whose transcript it misses by more than ``checks.labels.max_cer`` (CER) is
a suspect: a transcript on the wrong clip, a truncated recording, a careless approval. Grown
shards are always checked in full (they are where people's mistakes enter), the base corpus by
a sample spread over it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from asrloop import tracking
from asrloop.checks.model import sample_rows
from asrloop.checks.report import CheckReport, findings_if
from asrloop.config import config_snapshot
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.errors import ChecksFailed, MissingInputError
from asrloop.metrics import cer
from asrloop.model.registry import Registry
from asrloop.progress import console
from asrloop.serve.batch import Prediction, transcribe_utterances
from asrloop.serve.loading import DecodingSetup, load_recognizer
from asrloop.serve.recognizer import Recognizer

GREEDY = {"type": "greedy"}


def suspect_labels(
    predictions: Sequence[Prediction], max_cer: float, max_share: float
) -> list[tuple[str, str]]:
    """``(clip id, why)`` of clips whose transcript the model misses by more than ``max_cer``.

    A model that misses most clips cannot tell a wrong label from its own weakness: when more
    than ``max_share`` of the clips look suspect, none is named (the check is inconclusive)."""
    suspects = []
    for p in predictions:
        score = cer([p.reference], [p.hypothesis])
        if score > max_cer:
            why = f"CER {score:.2f}, labelled {p.reference!r}, heard {p.hypothesis!r}"
            suspects.append((p.utterance.id, why))
    if predictions and len(suspects) > max_share * len(predictions):
        console.print(
            f"[yellow]label check inconclusive[/]: the model misses {len(suspects)} of "
            f"{len(predictions)} clips by more than CER {max_cer:g}; no clip is named"
        )
        return []
    return suspects


def check_labels(
    recognizer: Recognizer,
    rows: Sequence[Utterance],
    max_cer: float,
    max_share: float,
    batch_seconds: float,
    model: str,
) -> CheckReport:
    predictions, _ = transcribe_utterances(recognizer, rows, batch_seconds, "label check")
    where = {p.utterance.id: p.utterance.where for p in predictions}
    flagged = suspect_labels(predictions, max_cer, max_share)
    suspects = [f"{where[clip]} {clip}: {why}" for clip, why in flagged]
    report = CheckReport("labels", summary={"model": model, "clips": len(predictions)})
    message = f"{{n}} clips the champion misses by more than CER {max_cer:g}: mislabelled?"
    report.add("labels.model_cer", findings_if("labels.model_cer", "error", message, suspects))
    return report


def rows_to_check(corpus_dir: Path, limit: int) -> list[Utterance]:
    train = list(iter_corpus(corpus_dir, ["train"]))
    grown = [r for r in train if r.is_grown]
    return grown + sample_rows([r for r in train if not r.is_grown], limit)


def run(cfg: DictConfig) -> CheckReport:
    settings = tracking.TrackingSettings.from_config(cfg.tracking, cfg.paths.root)
    registry = Registry(settings)
    champion = registry.alias_version(settings.champion_alias)
    if champion is None:
        raise MissingInputError("no champion registered yet: the label check needs a model")
    setup = DecodingSetup.from_config(GREEDY, cfg.features, cfg.paths.vocab, cfg.trainer)
    recognizer, _ = load_recognizer(f"registry:{champion}", setup, registry)
    rows = rows_to_check(Path(cfg.paths.corpus), int(cfg.checks.labels.max_clips))
    report = check_labels(
        recognizer,
        rows,
        float(cfg.checks.labels.max_cer),
        float(cfg.checks.labels.max_share),
        float(cfg.evaluate.batch_seconds),
        f"v{champion}",
    )
    report.print(console)
    path = report.write(Path(cfg.paths.reports) / "checks" / "labels.json")
    with tracking.step_run(settings, "check_labels", config_snapshot(cfg)):
        report.log_mlflow(tracking.setup(settings))
    if not report.passed:
        raise ChecksFailed(f"label check failed: see {path}")
    return report
