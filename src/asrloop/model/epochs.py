"""An epoch's plan: its global batches, and this process's examples of each.

The trainer steps through a plan the same way whatever holds the data: clips featurised in
memory (:class:`FolderEpoch`, a corpus in local folders) or streamed from tar shards
(:class:`asrloop.model.streamed_data.StreamedEpoch`). A plan is fixed by the seed and the epoch,
so a resumed run takes the same batches from where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from asrloop.distributed import Distributed
from asrloop.model.training_data import Example


class EpochPlan(Protocol):
    def __len__(self) -> int:
        """Global batches (one optimizer step each, before gradient accumulation)."""
        ...

    def clips(self, batch: int) -> int:
        """Clips in global batch ``batch``, over every process."""
        ...

    def shares(self, start: int) -> Iterator[list[Example]]:
        """This process's examples of each global batch from ``start`` on."""
        ...


class FolderEpoch:
    """Batches of indices into the featurised training set; each process takes every
    ``world_size``-th clip of a global batch."""

    def __init__(self, batches: list[list[int]], train: Sequence[Example], dist: Distributed):
        self.batches, self.train, self.dist = batches, train, dist

    def __len__(self) -> int:
        return len(self.batches)

    def clips(self, batch: int) -> int:
        return len(self.batches[batch])

    def shares(self, start: int) -> Iterator[list[Example]]:
        for batch in self.batches[start:]:
            yield [self.train[i] for i in self.dist.shard(batch)]
