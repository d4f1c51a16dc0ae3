"""The model-assisted label check (``asrloop check labels``; the ML Test Score idea).

The champion transcribes training clips (greedy, so the language model cannot paper over a
wrong label); a clip whose transcript it misses by more than ``checks.labels.max_cer`` (CER) is
a suspect: a transcript on the wrong clip, a truncated recording, a careless approval. Grown
shards are always checked in full (they are where people's mistakes enter), the base corpus by
a sample spread over it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from asrloop.checks.model import sample_rows
from asrloop.checks.report import CheckReport, findings_if
from asrloop.corpus.manifest import Utterance, iter_corpus
from asrloop.errors import MissingInputError
from asrloop.inference.batch import Prediction, transcribe_utterances
from asrloop.inference.recognizer import Recognizer
from asrloop.metrics import cer
from asrloop.model.registry import Registry
from asrloop.progress import console


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


def champion_version(registry: Registry, alias: str) -> str:
    """The version the champion alias names: the check needs a trained model."""
    champion = registry.alias_version(alias)
    if champion is None:
        raise MissingInputError("no champion registered yet: the label check needs a model")
    return champion
