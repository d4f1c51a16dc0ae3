"""Training data streamed from a packed corpus (:mod:`asrloop.corpus.packed`).

Every epoch is planned from the shards' manifests alone: the shard order (shuffled per epoch
with ``train_data.shuffle_shards``), each process's shards (rank ``r`` takes every
``world_size``-th, so processes read disjoint shards), and batches made by length within windows
of ``train_data.buffer_clips`` consecutive clips, shuffled within the window. Then the clips are
read from the tars as they stream, one window in memory at a time, featurised as the folder
path featurises them. Every process plans every process's batches, so all take the same number
of steps (the epoch ends with the shortest) and know each global batch's size.

With one process, unshuffled shards packed in manifest order and a buffer that holds the whole
corpus, the plan is the folder path's plan: the same model, bit for bit.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from asrloop.audio.io import SAMPLE_RATE, AudioError
from asrloop.corpus.manifest import Utterance
from asrloop.corpus.packed import PackedCorpusError, PackedShard, ShardStore, samples_of
from asrloop.distributed import Distributed
from asrloop.model.inputs import ModelInputs
from asrloop.model.training_data import (
    Example,
    LoadReport,
    bucket_batches,
    example_of,
    featurize_bytes,
    length_problem,
    usable_text,
)
from asrloop.progress import console
from asrloop.text.tokenizer import CharTokenizer


@dataclass(frozen=True)
class PlannedClip:
    row: Utterance
    shard: str
    frames: int  # the model's input frames: what batches are budgeted in


class PackedCorpus:
    """A packed corpus's index and manifests (read once; no audio)."""

    def __init__(self, store: ShardStore):
        self.store = store
        self.index = store.index()
        self.rows_of = {shard.name: store.rows(shard) for shard in self.index.shards}

    def shards(self, split: str) -> list[PackedShard]:
        return self.index.split(split)

    def rows(self, split: str) -> list[Utterance]:
        return [row for shard in self.shards(split) for row in self.rows_of[shard.name]]


@dataclass
class StreamSettings:
    buffer_clips: int
    shuffle_shards: bool
    seed: int


@dataclass
class StreamedData:
    """Plans epochs of a packed corpus for a model's inputs and streams their examples."""

    corpus: PackedCorpus
    tokenizer: CharTokenizer
    inputs: ModelInputs
    max_seconds: float
    settings: StreamSettings
    reports: dict[str, LoadReport] = field(default_factory=dict)
    _planned: dict[str, list[PlannedClip]] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)

    def __post_init__(self):
        for split in ("train", "dev"):
            report = self.reports.setdefault(split, LoadReport())
            for shard in self.corpus.shards(split):
                rows = self.corpus.rows_of[shard.name]
                self._planned[shard.name] = [
                    clip for row in rows if (clip := self._plan(row, shard, report)) is not None
                ]
            report.print_skipped()  # what planning left out; the stream's skips print as found

    def _plan(self, row: Utterance, shard: PackedShard, report: LoadReport) -> PlannedClip | None:
        """The clip as planned, or None when the folder path would skip it (reported)."""
        if not usable_text(row, self.tokenizer, report):
            return None
        samples = samples_of(row)
        labels = self.tokenizer.encode(row.text or "")
        planned = self.inputs.planned_frames  # (frames, output frames) of a length
        seconds = samples / SAMPLE_RATE
        problem = length_problem(seconds, lambda: planned(samples)[1], labels, self.max_seconds)
        if problem is not None:
            report.skip(row, *problem)
            return None
        return PlannedClip(row, shard.name, planned(samples)[0])

    # -- whole splits (dev; the first clips a fresh model normalises with) ---------------------
    def examples(self, split: str, limit: int | None = None) -> list[Example]:
        listings = [Listing(s, self._planned[s.name]) for s in self.corpus.shards(split)]
        if limit is not None:
            listings = _first_clips(listings, limit)
        total = sum(len(listing.clips) for listing in listings)
        return [e for e in self._stream(listings, set(range(total))) if e is not None]

    # -- epochs -------------------------------------------------------------------------------
    def epoch(
        self,
        epoch: int,
        dist: Distributed,
        max_batch_frames: int,
        replay: float | None = None,
        grown_repeat: int = 1,
    ) -> StreamedEpoch:
        """The epoch's plan for every process: its listings (shards, grown ones ``grown_repeat``
        times; with ``replay``, the grown shards plus whole base shards, drawn anew each epoch,
        until they hold ``replay`` times the grown audio), split among the processes."""
        listings = self._listings(epoch, replay, max(1, grown_repeat))
        if len(listings) < dist.world_size:
            raise PackedCorpusError(
                f"{self.corpus.store.describe()}: {len(listings)} train shards for "
                f"{dist.world_size} processes, which read disjoint shards: pack with a smaller "
                "train_data.clips_per_shard"
            )
        if self.settings.shuffle_shards:
            random.Random(f"{self.settings.seed}-shards-{epoch}").shuffle(listings)
        rng = random.Random(f"{self.settings.seed}-{epoch}")  # the folder path's batch shuffle
        plans = [
            self._rank_plan(listings[rank :: dist.world_size], rng, max_batch_frames)
            for rank in range(dist.world_size)
        ]
        return StreamedEpoch(self, plans, dist.rank)

    def _listings(self, epoch: int, replay: float | None, repeat: int) -> list[Listing]:
        shards = self.corpus.shards("train")
        grown = [s for s in shards if self._grown(s)]
        base = [s for s in shards if not self._grown(s)]
        listings = [Listing(s, self._planned[s.name]) for s in grown for _ in range(repeat)]
        if replay is None:
            return [*listings, *(Listing(s, self._planned[s.name]) for s in base)]
        random.Random(f"{self.settings.seed}-replay-{epoch}").shuffle(base)
        wanted = float(replay) * sum(c.row.duration for g in listings for c in g.clips)
        seconds = 0.0
        for shard in base:
            if seconds >= wanted:
                break
            clips = []
            for clip in self._planned[shard.name]:
                if seconds >= wanted:
                    break  # the last shard is read in part
                clips.append(clip)
                seconds += clip.row.duration
            listings.append(Listing(shard, clips))
        return listings

    def _grown(self, shard: PackedShard) -> bool:
        """A shard of grown rows (packing keeps a corpus shard folder's rows apart)."""
        rows = self.corpus.rows_of[shard.name]
        grown = {row.is_grown for row in rows}
        if len(grown) > 1:
            raise PackedCorpusError(
                f"{self.corpus.store.folder / shard.manifest}: grown and base rows share one "
                "shard; repack the corpus (asrloop corpus pack)"
            )
        return grown == {True}

    def _rank_plan(self, listings: list[Listing], rng, max_frames: int) -> RankPlan:
        clips = [clip for listing in listings for clip in listing.clips]
        buffer = max(1, int(self.settings.buffer_clips))
        batches: list[list[int]] = []
        for start in range(0, len(clips), buffer):
            window = clips[start : start + buffer]
            batches += [[start + i for i in b] for b in bucket_batches(window, max_frames, rng)]
        return RankPlan(listings, clips, batches, buffer)

    def _stream(self, listings: list[Listing], wanted: set[int]) -> Iterator[Example | None]:
        """One item per listed clip, in order: its example, or None (not ``wanted``, missing,
        unreadable), read from the shards' tars as they stream. A listing with nothing wanted
        is not read; a listing read in part stops at its last clip."""
        start = 0
        for listing in listings:
            clips, first = listing.clips, start
            start += len(clips)
            if not any(position in wanted for position in range(first, start)):
                yield from (None for _ in clips)
                continue
            index_of = {clip.row.audio_filepath: k for k, clip in enumerate(clips)}
            done = 0  # clips of the listing yielded so far
            for member, data in self.corpus.store.audio(listing.shard):
                k = index_of.get(member, -1)
                if k < done:
                    continue  # a row planning left out
                yield from self._missing(clips[done:k], listing.shard)
                yield self._example(clips[k], data) if first + k in wanted else None
                done = k + 1
                if done == len(clips):
                    break
            yield from self._missing(clips[done:], listing.shard)

    def _missing(self, clips: list[PlannedClip], shard: PackedShard) -> Iterator[None]:
        for clip in clips:
            self._skip(clip.row, "missing_file", f"{clip.row.audio_filepath} not in {shard.tar}")
            yield None

    def _example(self, clip: PlannedClip, data: bytes) -> Example | None:
        label = f"{clip.row.where} ({clip.row.audio_filepath})"
        try:
            featurized = featurize_bytes(data, label, self.inputs)
        except AudioError as error:
            self._skip(clip.row, "unreadable", str(error))
            return None
        example = example_of(
            clip.row,
            featurized,
            self.tokenizer,
            self.max_seconds,
            self.inputs,
            self._report(clip.row),
        )
        if example is not None and example.frames != clip.frames:
            raise PackedCorpusError(
                f"{label}: field 'samples' plans {clip.frames} frames, its audio gives "
                f"{example.frames}: the manifest does not describe its tar; repack"
            )
        return example

    def _skip(self, row: Utterance, reason: str, detail: str) -> None:
        if row.where in self._reported:
            return
        self._reported.add(row.where)
        self._report(row).skip(row, reason, detail)
        console.print(f"[yellow]skipped[/] {row.where}: {detail}")

    def _report(self, row: Utterance) -> LoadReport:
        return self.reports["train" if row.split == "train" else "dev"]


@dataclass(frozen=True)
class Listing:
    """One pass over a shard in an epoch: the planned clips read from it (a replayed shard may
    be read in part; a grown shard may be listed several times)."""

    shard: PackedShard
    clips: list[PlannedClip]


@dataclass
class RankPlan:
    listings: list[Listing]
    clips: list[PlannedClip]
    batches: list[list[int]]  # positions in ``clips``
    buffer: int


class StreamedEpoch:
    """An epoch of streamed training: every process's plan; this one's examples on demand."""

    def __init__(self, data: StreamedData, plans: list[RankPlan], rank: int):
        self.data, self.plans, self.rank = data, plans, rank
        self.steps = min(len(plan.batches) for plan in plans)

    def __len__(self) -> int:
        return self.steps

    def clips(self, batch: int) -> int:
        return sum(len(plan.batches[batch]) for plan in self.plans)

    def shares(self, start: int) -> Iterator[list[Example]]:
        plan = self.plans[self.rank]
        todo = plan.batches[start : self.steps]
        wanted = {position for batch in todo for position in batch}
        window_of = {i: batch[0] // plan.buffer for i, batch in enumerate(plan.batches)}
        held: dict[int, Example] = {}
        stream = enumerate(self.data._stream(plan.listings, wanted))
        read_to = 0  # clips consumed from the stream
        for i in range(start, self.steps):
            window_end = min(len(plan.clips), (window_of[i] + 1) * plan.buffer)
            while read_to < window_end:  # the batch's window: read it whole
                position, example = next(stream)
                read_to = position + 1
                if example is not None:
                    held[position] = example
            batch = [held[p] for p in plan.batches[i] if p in held]
            if not batch:
                names = sorted({plan.clips[p].shard for p in plan.batches[i]})
                raise PackedCorpusError(
                    f"{self.data.corpus.store.describe()}: every clip of a batch from {names} "
                    "is unreadable (see the skipped rows above); repack the corpus"
                )
            yield batch
            window = window_of[i]
            if i + 1 < self.steps and window_of[i + 1] != window:
                held = {p: e for p, e in held.items() if p >= window_end}


def _first_clips(listings: list[Listing], limit: int) -> list[Listing]:
    out, left = [], limit
    for listing in listings:
        if left <= 0:
            break
        out.append(Listing(listing.shard, listing.clips[:left]))
        left -= len(out[-1].clips)
    return out
