"""The Label Studio round trip: queue rows out as tasks, a Label Studio JSON export back in.

    asrloop review export --format label-studio      # tasks JSON + the labeling config (XML)
    asrloop review import project-1-at-....json      # decisions back into the queue

A task (Label Studio's "basic JSON" import format) holds the clip's audio URL and the row's
details in ``data``, and the model's hypothesis as a ``predictions`` entry whose result
pre-fills the transcription box. The labeling config (:data:`LABEL_CONFIG`) has an ``Audio``
object, a ``TextArea`` for the corrected text and a single ``Choices`` for the decision.

An export (``GET /api/projects/<id>/export?exportType=JSON``) lists tasks with their
``annotations``; per task the latest annotation that was not skipped (``was_cancelled``) gives
the decision, the text and the annotator (``completed_by``: a user id, or the user expanded
to a dict with ``email`` when the export asked for it). The import goes through
:class:`~asrloop.review.store.ReviewStore`: text is normalised, and a row that changed since it
was exported (its tag, kept in the task's data) is refused, never overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from asrloop.errors import ConfigError, DataError
from asrloop.jsonio import atomic_write_text, read_json, write_json
from asrloop.loop.review_queue import ReviewItem
from asrloop.review.store import Decision, ReviewStore
from asrloop.settings.review import ReviewExportSettings

FORMAT = "label-studio"
AUDIO, TEXT, DECISION = "audio", "transcription", "decision"  # the labeling config's names
CHOICES = ("approved", "rejected")  # Choice values: the queue's own status words
TAG_KEY = "asrloop_tag"  # the row's tag at export time, kept in the task's data
LABEL_CONFIG = f"""<View>
  <Header value="$clip_id · $voice · $reason"/>
  <Audio name="{AUDIO}" value="$audio" hotkey="ctrl+space"/>
  <Header value="Correct the transcript (pre-filled with the model's hypothesis)" size="5"/>
  <TextArea name="{TEXT}" toName="{AUDIO}" editable="true" maxSubmissions="1" rows="2"/>
  <Choices name="{DECISION}" toName="{AUDIO}" choice="single" showInline="true" required="true">
    <Choice value="{CHOICES[0]}" hotkey="1"/>
    <Choice value="{CHOICES[1]}" hotkey="2"/>
  </Choices>
</View>
"""


@dataclass(frozen=True)
class ExportSettings:
    """``conf/review/export``."""

    rows: str  # pending or all
    output: Path
    audio_url: str  # a template with {path}
    audio_root: Path

    @classmethod
    def of(cls, export: ReviewExportSettings) -> ExportSettings:
        """From ``review.export``, its format and rows checked, its paths as paths."""
        if export.format != FORMAT:
            raise ConfigError(f"review.export.format: {export.format!r} (known: {FORMAT!r})")
        if export.rows not in ("pending", "all"):
            raise ConfigError(f"review.export.rows: {export.rows!r} is not pending or all")
        return cls(
            rows=export.rows,
            output=Path(export.output),
            audio_url=export.audio_url,
            audio_root=Path(export.audio_root),
        )


def audio_url(item: ReviewItem, template: str, root: Path) -> str:
    """The clip's URL: ``template`` with ``{path}`` relative to ``root`` (absolute outside it)."""
    path = Path(item.audio_filepath)
    if not path.is_absolute():
        path = root / path
    relative = path.relative_to(root) if path.is_relative_to(root) else path
    return template.format(path=quote(str(relative), safe="/"))


def to_task(item: ReviewItem, url: str, model_version: str) -> dict[str, Any]:
    """One Label Studio task: the row in ``data``, the hypothesis as a prediction."""
    prediction: dict[str, Any] = {
        "model_version": model_version,
        "result": [
            {
                "from_name": TEXT,
                "to_name": AUDIO,
                "type": "textarea",
                "value": {"text": [item.hypothesis]},
            }
        ],
    }
    if item.confidence is not None:
        prediction["score"] = item.confidence
    data = {
        AUDIO: url,
        "clip_id": item.id,
        "hypothesis": item.hypothesis,
        "reference": item.reference,
        "reason": item.reason,
        "voice": item.voice,
        TAG_KEY: item.tag,
    }
    return {"data": data, "predictions": [prediction]}


def write_tasks(
    items: Sequence[ReviewItem], settings: ExportSettings, model_version: str
) -> tuple[Path, Path]:
    """The tasks JSON and the labeling config beside it (``<output>.xml``); returns both."""
    chosen = [item for item in items if settings.rows == "all" or item.status == "pending"]
    tasks = [
        to_task(item, audio_url(item, settings.audio_url, settings.audio_root), model_version)
        for item in chosen
    ]
    tasks_file = write_json(settings.output, tasks)
    config_file = atomic_write_text(settings.output.with_suffix(".xml"), LABEL_CONFIG)
    return tasks_file, config_file


# ---- import --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Annotated:
    """What one exported task says about its clip (``text`` None: the box was left empty)."""

    clip_id: str
    status: str
    text: str | None
    annotator: str
    seen: str | None


def annotator_name(completed_by: Any) -> str:
    """``completed_by`` as a name: the email of an expanded user, else the user id."""
    if isinstance(completed_by, Mapping):
        names = " ".join(str(completed_by.get(k) or "") for k in ("first_name", "last_name"))
        name = completed_by.get("email") or names.strip() or completed_by.get("id")
        return f"label-studio:{name}"
    return f"label-studio:user-{completed_by}"


def _latest(annotations: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    done = [a for a in annotations if not a.get("was_cancelled")]
    done.sort(key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), a.get("id", 0)))
    return done[-1] if done else None


def read_annotation(task: Mapping[str, Any], where: str) -> Annotated | None:
    """The decision in one exported task; None when it has no (unskipped) annotation."""
    data = task.get("data") or {}
    clip_id = data.get("clip_id")
    if not clip_id:
        raise DataError(f"{where}: task data has no 'clip_id' (not a task from asrloop)")
    annotation = _latest(task.get("annotations") or [])
    if annotation is None:
        return None
    text, choices = None, []
    for result in annotation.get("result") or []:
        value = result.get("value") or {}
        if result.get("from_name") == TEXT:
            text = " ".join(str(line) for line in value.get("text") or [])
        elif result.get("from_name") == DECISION:
            choices = list(value.get("choices") or [])
    if len(choices) != 1 or choices[0] not in CHOICES:
        raise DataError(
            f"{where}: clip {clip_id}: the '{DECISION}' choice is {choices!r}, "
            f"not one of {list(CHOICES)}"
        )
    return Annotated(
        str(clip_id),
        choices[0],
        text,
        annotator_name(annotation.get("completed_by")),
        data.get(TAG_KEY),
    )


def read_export(path: str | Path) -> list[Annotated]:
    """Every decided task of a Label Studio JSON export (a list of tasks)."""
    tasks = read_json(path)
    if not isinstance(tasks, list):
        raise DataError(f"{path}: not a Label Studio JSON export (expected a list of tasks)")
    found = [
        read_annotation(task, f"{path}: task {task.get('id', i)}") for i, task in enumerate(tasks)
    ]
    return [annotated for annotated in found if annotated is not None]


def import_decisions(store: ReviewStore, annotated: Sequence[Annotated]) -> list[ReviewItem]:
    """Save the decisions (all or none); a row left without text keeps its current text."""
    decisions = [
        Decision(
            clip_id=a.clip_id,
            status=a.status,
            reference=a.text if a.text is not None else store.item(a.clip_id).reference,
            reviewer=a.annotator,
            seen=a.seen,
        )
        for a in annotated
    ]
    return store.decide_all(decisions)


def decision_counts(saved: Sequence[ReviewItem]) -> dict[str, int]:
    """Imported rows by decision (approved, rejected)."""
    return {status: sum(item.status == status for item in saved) for status in CHOICES}


def task_count(tasks_file: Path) -> int:
    return len(json.loads(tasks_file.read_text()))
