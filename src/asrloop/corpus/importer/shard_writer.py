"""Write an import plan as shards: worker processes convert batches of clips, the parent writes
each shard's manifest (with provenance) once all its clips are done.

A shard is complete when its folder holds ``manifest.jsonl`` and ``plan.sha256`` matching the
plan (the same rule as synthesis): an interrupted import resumes at the first incomplete shard.
A shard folder is written beside its place (``<name>.partial``) and renamed when done. Clips
whose audio fails to decode are listed in the shard's ``excluded.jsonl`` with the reason.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from asrloop.artifacts import IMPORT_EXCLUDED, MANIFEST, PLAN_DIGEST
from asrloop.audio.io import SAMPLE_RATE, AudioError, write_audio
from asrloop.corpus.importer.conversion import convert
from asrloop.corpus.importer.import_plan import Excluded, ImportShard, PlannedClip
from asrloop.corpus.manifest import Utterance, write_manifest
from asrloop.corpus.shards import folder_is_complete
from asrloop.execution import Executor
from asrloop.faults import fault_point
from asrloop.fsutil import recover_dir, replace_dir
from asrloop.jsonio import iter_jsonl, write_jsonl

BATCH = 24  # clips per worker task
INLINE_BELOW = 48  # fewer clips than this: no worker processes (their start-up costs more)


@dataclass(frozen=True)
class ClipResult:
    id: str
    frames: int = 0
    rate: int = 0
    channels: int = 0
    error: str | None = None


def convert_task(task: tuple[str, Sequence[PlannedClip]]) -> list[ClipResult]:
    """:func:`convert_batch` of one ``(folder, clips)`` task: what an executor runs."""
    return convert_batch(*task)


def _clips(task: tuple[str, Sequence[PlannedClip]]) -> int:
    return len(task[1])


def convert_batch(folder: str, clips: Sequence[PlannedClip]) -> list[ClipResult]:
    """Convert clips into ``folder`` (a worker task); a clip that fails is reported, not fatal."""
    results = []
    for clip in clips:
        try:
            converted = convert(clip.source)
        except AudioError as error:
            results.append(ClipResult(clip.id, error=str(error)))
            continue
        write_audio(Path(folder) / f"{clip.id}.wav", converted.audio)
        results.append(
            ClipResult(clip.id, len(converted.audio), converted.rate, converted.channels)
        )
    return results


def manifest_row(clip: PlannedClip, result: ClipResult, source: str) -> Utterance:
    s = clip.source
    provenance = {
        "path": s.audio,
        "origin": s.origin,
        "sample_rate": result.rate,
        "channels": result.channels,
        "speaker": s.speaker,
        **({"raw_text": s.text} if s.text is not None else {}),  # drops: kept apart
        **({"offset": s.offset} if s.offset else {}),
        **({"segment_duration": s.duration} if s.duration is not None else {}),
        **({"channel": s.channel} if s.channel is not None else {}),
        **({"command": True} if s.kind != "file" else {}),
        **dict(s.extra),
    }
    return Utterance(
        id=clip.id,
        audio_filepath=f"{clip.id}.wav",
        duration=round(result.frames / SAMPLE_RATE, 4),
        text=clip.text,
        speaker=s.speaker,
        voice=s.speaker,
        split=clip.split,
        source=source,
        extra={"provenance": provenance},
    )


def finish_shard(
    shard: ImportShard, results: list[ClipResult], tmp: Path, final: Path, source: str
) -> None:
    by_id = {r.id: r for r in results}
    rows = [manifest_row(c, by_id[c.id], source) for c in shard.clips if not by_id[c.id].error]
    failed = [
        {"origin": c.source.origin, "reason": by_id[c.id].error}
        for c in shard.clips
        if by_id[c.id].error
    ]
    write_manifest(tmp / MANIFEST, rows)
    write_jsonl(tmp / IMPORT_EXCLUDED, failed)
    (tmp / PLAN_DIGEST).write_text(shard.digest() + "\n")
    fault_point("import.before_swap")
    replace_dir(tmp, final)  # replaces an incomplete shard asrloop wrote (ownership was checked)


def shard_exclusions(folder: Path) -> list[Excluded]:
    file = folder / IMPORT_EXCLUDED
    if not file.exists():
        return []
    return [Excluded(e["origin"], e["reason"]) for _, e in iter_jsonl(file)]


def write_shards(
    shards: Sequence[ImportShard],
    root: Path,
    workers: int,
    source: str,
    on_progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> list[Path]:
    """Write every incomplete shard under ``root``; returns all shard folders. The clips are
    converted in batches by ``executor`` when given (a Ray cluster's actors, writing where
    this process reads: a shared filesystem), else here or in ``workers`` processes."""
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    for shard in shards:
        recover_dir(root / shard.name)
    todo = [s for s in shards if not folder_is_complete(root / s.name, s.digest())]
    if on_progress:
        on_progress(sum(len(s.clips) for s in shards) - sum(len(s.clips) for s in todo))
    tasks = []
    for shard in todo:
        tmp = root / f"{shard.name}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        tasks += [
            (shard, str(tmp), shard.clips[i : i + BATCH]) for i in range(0, len(shard.clips), BATCH)
        ]
    pending = {s.name: sum(1 for t in tasks if t[0] is s) for s in todo}
    results: dict[str, list[ClipResult]] = defaultdict(list)

    def done(shard: ImportShard, batch: list[ClipResult]) -> None:
        results[shard.name] += batch
        pending[shard.name] -= 1
        if on_progress:
            on_progress(len(batch))
        if pending[shard.name] == 0:
            tmp = root / f"{shard.name}.partial"
            finish_shard(shard, results.pop(shard.name), tmp, root / shard.name, source)

    if executor is not None:
        work = [(tmp, clips) for _, tmp, clips in tasks]
        converted = executor.map(convert_task, work, f"converting ({source})", size=_clips)
        for (shard, _, _), batch in zip(tasks, converted, strict=True):
            done(shard, batch)
    elif workers <= 1 or sum(len(t[2]) for t in tasks) < INLINE_BELOW:
        for shard, tmp, clips in tasks:
            done(shard, convert_batch(tmp, clips))
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(convert_batch, tmp, clips): shard for shard, tmp, clips in tasks}
            for future in as_completed(futures):
                done(futures[future], future.result())
    return [root / s.name for s in shards]
