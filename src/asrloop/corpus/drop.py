"""``asrloop drop synth``: a production drop from the scenario, audio without transcripts.

The drop's true text goes to ``paths.references/<drop>.jsonl``, kept apart from the audio: only
evaluation and the demo's stand-in for a human corrector read it.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from asrloop.corpus.manifest import (
    MANIFEST_NAME,
    audio_path,
    public_fields,
    read_manifest,
    write_manifest,
)
from asrloop.corpus.plan import plan_drop
from asrloop.corpus.shards import render_shards
from asrloop.progress import console, progress_bar


def build_drop(cfg: DictConfig) -> Path:
    corpus = OmegaConf.to_container(cfg.corpus, resolve=True)
    scenario = OmegaConf.to_container(cfg.scenario, resolve=True)
    drop = scenario["drop"]
    shard = plan_drop(corpus, scenario, drop["name"], int(drop["seed"]) + int(drop["index"]))
    root = Path(cfg.paths.drops)
    with progress_bar(f"synthesizing drop {drop['name']}", len(shard.clips)) as advance:
        render_shards([shard], root, workers=1, with_text=False, on_progress=advance)
    texts = {c.id: c.text for c in shard.clips}
    references = Path(cfg.paths.references)
    drop_dir = root / drop["name"]
    rows = [
        {
            **public_fields(row),
            "text": texts[row["id"]],
            "audio_filepath": os.path.relpath(audio_path(row), references),
        }
        for row in read_manifest(drop_dir / MANIFEST_NAME, require_text=False)
    ]
    write_manifest(references / f"{drop['name']}.jsonl", rows)
    console.print(f"drop {drop['name']}: {len(shard.clips)} clips in {root / drop['name']}")
    return root / drop["name"]


def run(cfg: DictConfig) -> None:
    build_drop(cfg)


def drop_rows(cfg: DictConfig, part: str = "holdout") -> list[dict]:
    """Drop clips with their hidden reference text: ``part`` is holdout, review or all."""
    from asrloop.corpus.plan import is_holdout

    drop = cfg.scenario.drop
    manifest = Path(cfg.paths.drops) / drop.name / MANIFEST_NAME
    references = Path(cfg.paths.references) / f"{drop.name}.jsonl"
    if not manifest.exists() or not references.exists():
        return []
    texts = {r["id"]: r["text"] for r in read_manifest(references)}
    rows = []
    for row in read_manifest(manifest, require_text=False):
        held = is_holdout(row["id"], float(drop.holdout_share), int(drop.seed))
        if part == "all" or (part == "holdout") == held:
            rows.append({**row, "text": texts[row["id"]]})
    return rows
