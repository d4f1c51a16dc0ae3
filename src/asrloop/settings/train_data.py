"""``conf/train_data``: where training reads its corpus: local folders, or streamed tar shards."""

from __future__ import annotations

from dataclasses import dataclass

SOURCES = ("folders", "stream")
CHOICES = {"train_data.kind": SOURCES}


@dataclass
class TrainDataSettings:
    """``folders``: every clip featurised into memory from the corpus's shard folders (the
    feature cache; replay draws single base clips). ``stream``: the packed corpus (``asrloop
    corpus pack``: tar shards with their manifests, ``data/packed``, brought up to date with the
    corpus before training) read as a stream; with ``remote`` set, from that DVC remote as it
    was pushed (no local copy). ``clips_per_shard`` is what packing writes; ``buffer_clips`` the
    window of clips batched by length together; ``shuffle_shards`` a new shard order every
    epoch; replay takes whole base shards."""

    kind: str = "folders"
    remote: str | None = None
    clips_per_shard: int = 250
    buffer_clips: int = 1000
    shuffle_shards: bool = True
