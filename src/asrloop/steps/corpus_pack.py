"""``asrloop corpus pack``: the corpus's train and dev rows as tar shards to stream
(``train_data=stream``), tracked by DVC and pushed to its remote (``loop.push``)."""

from __future__ import annotations

from asrloop.artifacts import Layout
from asrloop.corpus.manifest import iter_corpus
from asrloop.corpus.packed import PackedIndex, pack_corpus
from asrloop.corpus.versioning import dvc, track_shards
from asrloop.errors import MissingInputError
from asrloop.pipeline import write_params
from asrloop.progress import console, progress_bar
from asrloop.settings.train_data import TrainDataSettings
from asrloop.steps.context import StepContext, step

PACKED_SPLITS = ("train", "dev")


def pack(layout: Layout, settings: TrainDataSettings) -> PackedIndex | None:
    """Pack (or bring up to date: only changed corpus shard folders are packed again) the
    corpus into ``layout.packed_corpus()``; None when there is no corpus here to pack."""
    rows = {split: list(iter_corpus(layout.corpus, [split])) for split in PACKED_SPLITS}
    if not rows["train"]:
        return None
    folder = layout.packed_corpus()
    total = sum(len(split_rows) for split_rows in rows.values())
    with progress_bar("packing shards", total) as advance:
        index = pack_corpus(rows, folder, int(settings.clips_per_shard), layout.corpus, advance)
    for message in index.skipped[:20]:
        console.print(f"[yellow]skipped[/] {message}")
    clips = sum(shard.clips for shard in index.shards)
    hours = sum(shard.seconds for shard in index.shards) / 3600
    console.print(
        f"packed {clips} clips ({hours:.2f} h) in {len(index.shards)} shards in {folder}"
        + (f"; {len(index.skipped)} unreadable clips left out" if index.skipped else "")
    )
    return index


@step("corpus pack")
def run(ctx: StepContext) -> None:
    layout, settings = ctx.layout, ctx.settings
    if pack(layout, settings.train_data) is None:
        raise MissingInputError(f"no train rows under {layout.corpus}: build the corpus first")
    if (layout.root / ".dvc").is_dir():
        if layout.dvc_yaml().exists() and not layout.params_file().exists():
            write_params(ctx.cfg)  # DVC parses the pipeline, which reads its params
        pointer = track_shards(layout.root, [layout.packed_corpus()])[0]
        if settings.loop.push:
            dvc(layout.root, "push", "--quiet", str(pointer.relative_to(layout.root)))
            console.print(f"pushed to the DVC remote ({pointer.relative_to(layout.root)})")
