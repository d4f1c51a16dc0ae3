"""Production drops: ``asrloop drop synth`` makes one from the scenario, audio without text.

The drop's true text goes to ``paths.references/<drop>.jsonl``, kept apart from the audio: only
evaluation and the demo's stand-in for a human corrector read it. A :class:`Drop` names a drop's
files and splits its clips into the review part and the held-out part (which never enters the
corpus: the gate measures the fix there).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from asrloop.artifacts import MANIFEST, Layout
from asrloop.corpus import ownership
from asrloop.corpus.manifest import Utterance, read_manifest, write_manifest
from asrloop.corpus.plan import plan_drop
from asrloop.corpus.served import guard_drop
from asrloop.corpus.shards import plan_digest, render_shards
from asrloop.faults import fault_point
from asrloop.progress import console, progress_bar
from asrloop.settings.corpus import CorpusSettings
from asrloop.settings.scenario import DropSettings, ScenarioSettings

PARTS = ("holdout", "review", "all")


def is_holdout(clip_id: str, share: float, seed: int) -> bool:
    """Stable partition of drop clips: held-out clips never enter the corpus."""
    digest = hashlib.sha256(f"{seed}:{clip_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


@dataclass(frozen=True)
class Drop:
    """A production drop: its audio folder, its hidden references and its held-out part."""

    name: str
    folder: Path
    references: Path
    holdout_share: float
    seed: int

    @classmethod
    def of(cls, drop: DropSettings, layout: Layout) -> Drop:
        """The drop ``scenario.drop`` names, in the project ``layout``."""
        return cls.at(layout, drop.name, drop.holdout_share, drop.seed)

    @classmethod
    def at(cls, layout: Layout, name: str, holdout_share: float, seed: int) -> Drop:
        """Drop ``name`` in the project ``layout``: its folder and references from the layout."""
        return cls(name, layout.drop_dir(name), layout.drop_references(name), holdout_share, seed)

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST

    def is_holdout(self, clip_id: str) -> bool:
        return is_holdout(clip_id, self.holdout_share, self.seed)

    def reference_texts(self) -> dict[str, str]:
        """``{clip id: true text}`` from the hidden references (empty when there are none)."""
        if not self.references.exists():
            return {}
        return {r.id: r.text or "" for r in read_manifest(self.references)}

    def clips(self, part: str = "holdout") -> list[Utterance]:
        """Drop clips with their hidden reference text: ``part`` is holdout, review or all."""
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, not {part!r}")
        if not self.manifest.exists() or not self.references.exists():
            return []
        texts = self.reference_texts()
        return [
            row.replace(text=texts[row.id])
            for row in read_manifest(self.manifest, require_text=False, contained=True)
            if row.id in texts  # an imported drop may have references for some clips only
            and (part == "all" or (part == "holdout") == self.is_holdout(row.id))
        ]


def synthesize_drop(
    corpus: CorpusSettings, scenario: ScenarioSettings, drop: Drop, layout: Layout
) -> Path:
    """Render the scenario's drop ``drop.name`` (audio) and write its hidden references; a drop
    already in use is rewritten only from the same plan (see :mod:`asrloop.corpus.served`)."""
    settings = scenario.drop
    ownership.claim_folder(drop.folder, "drop synth")
    index = settings.index
    shard = plan_drop(corpus, scenario, drop.name, settings.seed + index, index)
    kept = guard_drop(layout, drop.name, "drop synth", settings.replace, plan_digest(shard))
    if kept is not None:
        console.print(f"[yellow]replacing drop {drop.name}[/]: the old one is kept in {kept}")
    with progress_bar(f"synthesizing drop {drop.name}", len(shard.clips)) as advance:
        render_shards([shard], drop.folder.parent, workers=1, with_text=False, on_progress=advance)
    texts = {c.id: c.text for c in shard.clips}
    rows = [
        row.replace(
            text=texts[row.id],
            audio_filepath=os.path.relpath(row.audio_path, drop.references.parent),
        )
        for row in read_manifest(drop.manifest, require_text=False)
    ]
    fault_point("drop.before_references")
    write_manifest(drop.references, rows)
    console.print(f"drop {drop.name}: {len(shard.clips)} clips in {drop.folder}")
    return drop.folder
