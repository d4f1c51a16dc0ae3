"""The review queue as a store of decisions: checked, normalised and saved atomically.

Every save names the row's :attr:`~asrloop.loop.review_queue.ReviewItem.tag` its author saw. A
row that changed since (another reviewer, a Label Studio import, an edit of the CSV) refuses the
save with :class:`StaleRowError` instead of overwriting it. Saves hold a lock on the queue folder
(``flock``), so two servers or an import never interleave their read-modify-write.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asrloop.errors import AsrloopError, DataError, MissingInputError
from asrloop.faults import fault_point
from asrloop.fsutil import inside_any
from asrloop.loop.review_queue import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    STATUSES,
    ReviewItem,
    queue_paths,
    read_queue,
    write_queue,
)
from asrloop.strict import clean_text
from asrloop.text.normalize import normalize_transcript


class StaleRowError(AsrloopError):
    """A save made from an outdated view of a row (someone else saved it first)."""


class UnknownClipError(DataError):
    """A clip id that is not a row of the queue."""


@dataclass(frozen=True)
class Decision:
    """What a reviewer saves for one clip. ``seen`` is the row's tag when they loaded it (None:
    unknown, then only a pending row may be decided)."""

    clip_id: str
    status: str
    reference: str
    reviewer: str
    seen: str | None


class ReviewStore:
    """The queue in ``folder`` (``queue.jsonl`` + ``queue.csv``); corrections must be writable in
    ``alphabet``. Relative audio paths are resolved against ``root``; only audio inside
    ``audio_roots`` (default: ``root``) is ever served, symlinks resolved."""

    def __init__(
        self,
        folder: str | Path,
        alphabet: str,
        root: str | Path,
        audio_roots: Sequence[str | Path] = (),
    ):
        self.folder, self.alphabet, self.root = Path(folder), alphabet, Path(root)
        self.audio_roots = tuple(Path(r) for r in audio_roots) or (self.root,)
        if not any(path.exists() for path in queue_paths(self.folder)):
            raise MissingInputError(
                f"{self.folder}: no review queue here (`asrloop triage` writes it)"
            )

    def public(self, message: str) -> str:
        """``message`` without this server's folders (answers name rows, not paths)."""
        folders = {self.folder, self.root, *self.audio_roots}
        names = {str(p) for p in folders} | {str(p.resolve()) for p in folders}
        for name in sorted(names, key=len, reverse=True):
            message = message.replace(name, "<project>")
        return message

    def items(self) -> list[ReviewItem]:
        return read_queue(self.folder)

    def item(self, clip_id: str) -> ReviewItem:
        for item in self.items():
            if item.id == clip_id:
                return item
        raise UnknownClipError(f"no clip {clip_id[:80]!r} in the review queue")

    def audio_path(self, clip_id: str) -> Path:
        """The audio file of a queue row, inside the audio roots (never any other path); a
        path outside them and a missing file get the same answer."""
        item = self.item(clip_id)
        path = inside_any(item.audio_filepath, self.root, self.audio_roots)
        if path is None or not path.is_file():
            raise MissingInputError(f"clip {clip_id}: no audio to serve")
        return path

    def decide(self, decision: Decision) -> ReviewItem:
        return self.decide_all([decision])[0]

    def decide_all(self, decisions: Sequence[Decision]) -> list[ReviewItem]:
        """Apply every decision or none: all problems are reported together. A decision that
        changes nothing is accepted whatever its tag (a repeated save or import)."""
        with self._locked():
            queue = {item.id: item for item in self.items()}
            saved, problems = [], []
            for decision in decisions:
                try:
                    saved.append(self._apply(queue, decision))
                except AsrloopError as error:
                    problems.append(error)
            if len(problems) == 1:
                raise problems[0]
            if problems:
                stale = all(isinstance(p, StaleRowError) for p in problems)
                raise (StaleRowError if stale else DataError)("; ".join(map(str, problems)))
            if any(item is not queue[item.id] for item in saved):
                queue.update({item.id: item for item in saved})
                fault_point("review.before_save")
                write_queue(self.folder, queue.values())
            return saved

    def _apply(self, queue: dict[str, ReviewItem], decision: Decision) -> ReviewItem:
        item = queue.get(decision.clip_id)
        if item is None:
            raise UnknownClipError(
                f"{self.folder}: no clip {decision.clip_id!r} in the review queue"
            )
        if decision.status not in STATUSES:
            raise DataError(f"clip {item.id}: status {decision.status!r} not in {STATUSES}")
        where = f"clip {item.id}"
        reviewer = clean_text(decision.reviewer.strip(), where, "reviewer", MAX_NAME_CHARS, True)
        if not reviewer:
            raise DataError(f"clip {item.id}: no reviewer name: say who decides")
        reference = item.reference
        if decision.status == "approved":
            clean_text(decision.reference, where, "reference", MAX_TEXT_CHARS)
            reference = normalize_transcript(decision.reference, self.alphabet)
        changed = (decision.status, reference, reviewer) != (
            item.status,
            item.reference,
            item.reviewer,
        )
        if not changed:
            return item
        stale = item.tag != decision.seen if decision.seen is not None else item.decided
        if stale:
            raise StaleRowError(
                f"clip {item.id} was changed after you loaded it "
                f"(now {item.status} by {item.reviewer or 'nobody'}, revision {item.revision}"
                f"{', ' + item.reviewed_at if item.reviewed_at else ''}): "
                "your change was not saved; reload the row to see it"
            )
        return item.replace(
            status=decision.status,
            reference=reference,
            reviewer=reviewer,
            revision=item.revision + 1,
            reviewed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        handle = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            os.close(handle)
