"""The review queue of a drop: :class:`ReviewItem` rows in ``queue.jsonl`` and ``queue.csv``.

Triage writes the queue, a person (on the review page, in Label Studio, or in a text editor) or
the demo's stand-in decides each row, grow reads the approved ones. Both files hold the same
rows; whichever was edited last is read, so a reviewer may use a spreadsheet or a text editor.
Decided rows survive a re-triage. Each row carries a ``revision`` (saves so far) and a content
:attr:`ReviewItem.tag`, so a save made from a stale view of the row can be refused.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asrloop.artifacts import QUEUE_CSV, QUEUE_JSONL
from asrloop.errors import DataError
from asrloop.faults import fault_point
from asrloop.jsonio import iter_jsonl, write_jsonl
from asrloop.strict import clean_text

if TYPE_CHECKING:
    from asrloop.inference.transcript import Transcript

STATUSES = ("pending", "approved", "rejected")
MAX_ROWS = 100_000  # a queue is read whole: more rows than any review is refused
MAX_FIELD_CHARS = 10_000  # any text field of a row
MAX_TEXT_CHARS = 2_000  # a reference a reviewer saves
MAX_NAME_CHARS = 100  # a reviewer's name
MAX_CLIP_SECONDS = 24 * 3600.0  # a row's duration (a day of audio is surely a typo)
DECIDED = ("approved", "rejected")
RANDOM = "random"  # the reason of the uniform sample (the unbiased error estimate)
DEMO_REVIEWER = "demo:references"
DECISION_FIELDS = ("id", "status", "reference", "reviewer", "revision", "reviewed_at")
SPREADSHEET_FIELDS = ("id", "reviewer", "reference")  # typed by people: never a formula


@dataclass(frozen=True)
class ReviewItem:
    """One clip to review: what the model heard, the corrected text, the decision."""

    id: str
    status: str = "pending"
    reason: str = ""
    hypothesis: str = ""
    reference: str = ""
    voice: str = ""
    confidence: float | None = None
    audio_filepath: str = ""
    reviewer: str = ""
    word_confidence: str = ""  # the hypothesis words' confidences, space separated
    revision: int = 0  # decisions saved so far (the review page counts them)
    reviewed_at: str = ""  # when the last decision was saved (UTC, ISO 8601)
    rank: int | None = None  # the selection's order: a reviewer takes rows by rank (1 first)
    duration: float | None = None  # seconds of audio (what listening to the clip costs)

    @property
    def decided(self) -> bool:
        return self.status in DECIDED

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    @property
    def in_random_sample(self) -> bool:
        return RANDOM in [part.strip() for part in self.reason.split(";")]

    @property
    def word_confidences(self) -> list[float]:
        return [float(value) for value in self.word_confidence.split()]

    @property
    def tag(self) -> str:
        """A hash of the row's decision (status, text, reviewer, revision, time): it changes
        with every save or edit of the decision, by any tool."""
        decision = {name: getattr(self, name) for name in DECISION_FIELDS}
        text = json.dumps(decision, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @classmethod
    def from_transcript(cls, transcript: Transcript, reason: str, **fields: Any) -> ReviewItem:
        """A row for a production clip: what the model heard (its words' confidences, the
        reference to correct starting as the hypothesis), why it was chosen, and ``fields``."""
        return cls(
            id=transcript.id,
            reason=reason,
            hypothesis=transcript.text,
            reference=transcript.text,
            voice=transcript.voice,
            confidence=transcript.confidence,
            audio_filepath=transcript.audio_filepath,
            word_confidence=" ".join(f"{w.confidence:.2f}" for w in transcript.transcription.words),
            duration=round(transcript.duration, 3),
            **fields,
        )

    def replace(self, **changes: Any) -> ReviewItem:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> ReviewItem:
        """A row as read from either file (CSV cells are text; JSON values must have their
        field's type); a bad value names file, row and field. Fields that older queue files
        lack take their defaults."""
        names = [f.name for f in dataclasses.fields(cls)]
        values = {n: "" if data.get(n) is None else data.get(n) for n in names}
        numbers = ("confidence", "revision", "rank", "duration")
        for name in names:
            if name not in numbers and not isinstance(values[name], str):
                raise DataError(f"{where}: field '{name}': {_shown(values[name])} is not text")
        if not values["id"].strip():
            raise DataError(f"{where}: missing field 'id'")
        status = values["status"].strip().lower() or "pending"
        if status not in STATUSES:
            raise DataError(
                f"{where}: clip {values['id'][:80]}: status {status[:40]!r} not in {STATUSES}"
            )
        confidence = _number(values["confidence"], float, where, "confidence")
        revision = _number(values["revision"], int, where, "revision")
        rank = _number(values["rank"], int, where, "rank")
        duration = _number(values["duration"], float, where, "duration")
        if confidence is not None and not 0.0 <= confidence <= 1.0:  # NaN fails this too
            raise DataError(f"{where}: field 'confidence': {confidence!r} is not in [0, 1]")
        if revision is not None and revision < 0:
            raise DataError(f"{where}: field 'revision': {revision} is negative")
        if rank is not None and rank < 1:
            raise DataError(f"{where}: field 'rank': {rank} is not 1 or more")
        if duration is not None and not 0.0 <= duration <= MAX_CLIP_SECONDS:
            raise DataError(
                f"{where}: field 'duration': {duration!r} is not in [0, {MAX_CLIP_SECONDS}] s"
            )
        text = {n: values[n] for n in names if n not in (*numbers, "status")}
        for name, value in text.items():
            limit = MAX_NAME_CHARS if name == "reviewer" else MAX_FIELD_CHARS
            clean_text(value, where, name, limit, spreadsheet=name in SPREADSHEET_FIELDS)
        return cls(
            **text,
            status=status,
            confidence=confidence,
            revision=revision or 0,
            rank=rank,
            duration=duration,
        )


def _shown(value: Any) -> str:
    text = repr(value)
    return text[:60] + ("..." if len(text) > 60 else "")


def _number(value: Any, kind: type, where: str, name: str) -> Any:
    """``value`` (a JSON number or a CSV cell's text) as ``kind``; "" is None."""
    if value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DataError(f"{where}: field '{name}': {_shown(value)} is not a number")
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise DataError(f"{where}: field '{name}': {value!r} is not a whole number")
    try:
        number = kind(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError) as error:
        raise DataError(f"{where}: field '{name}': {_shown(value)} is not a number") from error
    if kind is int and abs(number) > 2**31:
        raise DataError(f"{where}: field '{name}': {number} is out of range")
    return number


def queue_paths(folder: str | Path) -> tuple[Path, Path]:
    folder = Path(folder)
    return folder / QUEUE_JSONL, folder / QUEUE_CSV


def write_queue(folder: str | Path, items: Iterable[ReviewItem]) -> tuple[Path, Path]:
    """Write the queue as JSON lines and CSV (same content, same modification time)."""
    jsonl, csv_path = queue_paths(folder)
    rows = [item.to_dict() for item in items]
    write_jsonl(jsonl, rows)
    fault_point("queue.between_files")  # the newer JSON lines win until the CSV follows
    tmp = csv_path.with_suffix(".csv.tmp")
    fields = [f.name for f in dataclasses.fields(ReviewItem)]
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    os.replace(tmp, csv_path)
    stamp = jsonl.stat().st_mtime_ns
    os.utime(csv_path, ns=(stamp, stamp))
    return jsonl, csv_path


def read_queue(folder: str | Path) -> list[ReviewItem]:
    """The queue as a person left it: the CSV if it was edited after the JSON lines, else those.
    Every row is checked (:meth:`ReviewItem.from_dict`); a repeated id or more than
    :data:`MAX_ROWS` rows is refused, naming the file and rows."""
    jsonl, csv_path = queue_paths(folder)
    if csv_path.exists() and (
        not jsonl.exists() or csv_path.stat().st_mtime_ns > jsonl.stat().st_mtime_ns
    ):
        return _unique(_csv_rows(csv_path), csv_path)
    if not jsonl.exists():
        return []
    rows = ((f"{jsonl}:{n}", data) for n, data in iter_jsonl(jsonl))
    return _unique(rows, jsonl)


def _csv_rows(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    # utf-8-sig: a spreadsheet's byte-order mark is not part of the first column's name;
    # newline="": the csv module handles CRLF line ends itself
    number = 1
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for number, data in enumerate(csv.DictReader(handle), start=2):
                if None in data:  # more cells than the header names
                    raise DataError(f"{path}:{number}: more cells than columns")
                yield f"{path}:{number}", data
    except (csv.Error, UnicodeDecodeError) as error:
        raise DataError(f"{path}:{number + 1}: not a readable CSV row ({error})") from error


def _unique(rows: Iterable[tuple[str, dict[str, Any]]], path: Path) -> list[ReviewItem]:
    items: list[ReviewItem] = []
    where_of: dict[str, str] = {}
    for where, data in rows:
        if len(items) >= MAX_ROWS:
            raise DataError(f"{path}: more than {MAX_ROWS} rows; split the drop")
        item = ReviewItem.from_dict(data, where)
        if item.id in where_of:
            raise DataError(
                f"{where}: clip {item.id!r} is also at {where_of[item.id]}: one row per clip "
                "(which decision counts?); remove one"
            )
        where_of[item.id] = where
        items.append(item)
    return items


def merge_queue(
    existing: Iterable[ReviewItem], selections: Iterable[ReviewItem]
) -> list[ReviewItem]:
    """The queue for ``selections``, keeping every row a person already approved or rejected.

    A pending row that is selected again keeps its (possibly edited) reference; pending rows
    no longer selected are dropped; new rows start with the hypothesis as reference.
    """
    old = {item.id: item for item in existing}
    queue, seen = [], set()
    for selected in selections:
        seen.add(selected.id)
        previous = old.get(selected.id)
        if previous and previous.decided:
            queue.append(previous)
            continue
        reference = previous.reference if previous else selected.hypothesis
        kept = (
            {"revision": previous.revision, "reviewed_at": previous.reviewed_at} if previous else {}
        )
        queue.append(selected.replace(reference=reference, status="pending", reviewer="", **kept))
    queue += [item for item_id, item in old.items() if item_id not in seen and item.decided]
    return queue
