"""A drop production has used is immutable: never overwritten or emptied by a later step.

Once a drop was served (a serving record pins the model that transcribed it), transcribed,
triaged (it has a review queue) or grown from (a grown shard holds its clips), other data
depend on its exact audio and references. :func:`guard_drop` refuses to rewrite such a drop,
naming what depends on it; a deliberate replacement (``scenario.drop.replace=true``) first moves
the old audio and references aside under ``paths.replaced``, whole and restorable.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from asrloop.artifacts import PLAN_DIGEST, Layout
from asrloop.errors import DataError
from asrloop.faults import fault_point


class ServedDropError(DataError):
    """A step would overwrite a drop that served, triage or grow already used."""


def dependents(layout: Layout, drop: str) -> list[str]:
    """What already depends on drop ``drop``'s audio and references (empty: nothing yet)."""
    uses = {
        "served (its serving record)": layout.serving_record(drop),
        "transcribed": layout.transcripts(drop),
        "triaged (its review queue)": layout.review_queue(drop),
        "grown from (its grown shard)": layout.grown_shard(drop),
    }
    return [f"{what}: {path}" for what, path in uses.items() if path.exists()]


def same_plan(folder: Path, digest: str) -> bool:
    """Whether ``folder`` was written from the plan with ``digest`` (rewriting changes nothing)."""
    file = folder / PLAN_DIGEST
    return file.exists() and file.read_text().strip() == digest


def guard_drop(layout: Layout, drop: str, step: str, replace: bool, digest: str) -> Path | None:
    """Stop ``step`` from rewriting a used drop; with ``replace``, move the old one aside first.

    Returns where the old drop was kept (None when nothing was moved). A rewrite from the same
    plan (``digest``) changes nothing and passes."""
    folder, references = layout.drop_dir(drop), layout.drop_references(drop)
    uses = dependents(layout, drop)
    if not uses or not (folder.exists() or references.exists()) or same_plan(folder, digest):
        return None
    if not replace:
        raise ServedDropError(
            f"drop {drop!r} ({folder}) is in use and will not be overwritten by `asrloop {step}`: "
            + "; ".join(uses)
            + ". Give the new audio another name (scenario.drop.name), or replace it "
            "deliberately with scenario.drop.replace=true (the old drop is kept under "
            f"{layout.replaced})."
        )
    kept = _unfinished(layout, drop) or layout.replaced / f"{drop}-{_now()}"
    kept.mkdir(parents=True, exist_ok=True)
    if references.exists():
        os.replace(references, kept / references.name)
    fault_point("drop.between_moves")
    if folder.exists():
        os.replace(folder, kept / folder.name)
    return kept


def _now() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


def _unfinished(layout: Layout, drop: str) -> Path | None:
    """The place of a replacement a kill interrupted (the references moved, not the audio):
    the rest goes there too, so the old drop stays whole in one place."""
    if not layout.replaced.is_dir():
        return None
    started = sorted(layout.replaced.glob(f"{drop}-*"))
    return next((p for p in reversed(started) if not (p / drop).exists()), None)
