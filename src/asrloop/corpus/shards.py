"""Render shard plans to audio in worker processes; finished shards are never redone.

A shard folder holds ``<id>.wav`` files (16 kHz mono PCM) and ``manifest.jsonl``. The manifest is
written last and atomically, together with ``plan.sha256``: a folder with both, matching the
plan, is complete; anything else is rebuilt. So an interrupted synthesis resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from asrloop.artifacts import MANIFEST, PLAN_DIGEST
from asrloop.audio.augment import add_noise, normalize_peak, speed_perturb
from asrloop.audio.io import SAMPLE_RATE, write_audio
from asrloop.corpus.manifest import Utterance, write_manifest
from asrloop.corpus.plan import ClipPlan, ShardPlan
from asrloop.corpus.slices import SNR_FIELD
from asrloop.corpus.synthesis import VoiceSpec, synthesize, validate_voice
from asrloop.faults import fault_point
from asrloop.fsutil import recover_dir, replace_dir


def plan_digest(shard: ShardPlan) -> str:
    payload = json.dumps([c.to_row() for c in shard.clips], sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()


def folder_is_complete(folder: Path, digest: str) -> bool:
    """A shard folder with its manifest and the digest of the plan it was written from."""
    file = folder / PLAN_DIGEST
    return (folder / MANIFEST).exists() and file.exists() and file.read_text().strip() == digest


def shard_is_complete(folder: Path, shard: ShardPlan) -> bool:
    return folder_is_complete(folder, plan_digest(shard))


def clip_seed(clip: ClipPlan) -> int:
    return int.from_bytes(hashlib.sha256(clip.id.encode()).digest()[:4], "big")


def render_clip(clip: ClipPlan) -> np.ndarray:
    seed = clip_seed(clip)
    audio = synthesize(clip.text, VoiceSpec(clip.voice, clip.rate_wpm, clip.pitch), seed)
    audio = speed_perturb(audio, clip.speed, SAMPLE_RATE)
    audio = normalize_peak(audio, 0.7)
    if clip.snr_db is not None:
        audio = add_noise(audio, clip.snr_db, np.random.default_rng(seed))
    return audio


def manifest_row(clip: ClipPlan, n_samples: int, with_text: bool) -> Utterance:
    return Utterance(
        id=clip.id,
        audio_filepath=f"{clip.id}.wav",
        duration=round(n_samples / SAMPLE_RATE, 4),
        text=clip.text if with_text else None,
        speaker=clip.voice,
        voice=clip.voice,
        split=clip.split,
        source=clip.source,
        extra={SNR_FIELD: clip.snr_db},  # null: no noise mixed in (the noise slice reads it)
    )


def render_shard(shard: ShardPlan, folder: str, with_text: bool = True) -> int:
    """Write one shard; returns its clip count. Runs inside a worker process."""
    out = Path(folder)
    recover_dir(out)
    if shard_is_complete(out, shard):
        return len(shard.clips)
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    rows = []
    for clip in shard.clips:
        audio = render_clip(clip)
        write_audio(tmp / f"{clip.id}.wav", audio)
        rows.append(manifest_row(clip, len(audio), with_text))
    fault_point("synth.before_manifest")
    write_manifest(tmp / MANIFEST, rows)
    (tmp / PLAN_DIGEST).write_text(plan_digest(shard) + "\n")
    fault_point("synth.before_swap")
    replace_dir(tmp, out)
    return len(shard.clips)


def validate_voices(shards: Sequence[ShardPlan]) -> None:
    for name in sorted({clip.voice for shard in shards for clip in shard.clips}):
        validate_voice(name)


def render_shards(
    shards: Sequence[ShardPlan],
    root: Path,
    workers: int,
    with_text: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Render every shard under ``root`` (skipping complete ones); returns the shard folders."""
    validate_voices(shards)
    root.mkdir(parents=True, exist_ok=True)
    folders = [root / shard.name for shard in shards]
    todo = [(s, f) for s, f in zip(shards, folders, strict=True) if not shard_is_complete(f, s)]
    if on_progress:
        on_progress(sum(len(s.clips) for s in shards) - sum(len(s.clips) for s, _ in todo))
    # One fresh process per shard: espeak-ng carries state from one utterance to the next, so
    # the same shard is bit-identical only when rendered from a clean engine. spawn, not fork:
    # a forked child would inherit the parent's engine (and torch's OpenMP pool, which stalls).
    with ProcessPoolExecutor(
        max(1, workers), mp_context=get_context("spawn"), max_tasks_per_child=1
    ) as pool:
        futures = [pool.submit(render_shard, s, str(f), with_text) for s, f in todo]
        for future in as_completed(futures):
            done = future.result()
            if on_progress:
                on_progress(done)
    return folders
