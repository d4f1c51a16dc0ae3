"""Packed corpora: tar shards in the WebDataset layout with their manifests, and the epochs that
training plans from the manifests and streams from the tars."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from asrloop.audio.io import decode_audio
from asrloop.corpus.manifest import iter_corpus
from asrloop.corpus.packed import (
    INDEX,
    PackedCorpusError,
    ShardStore,
    pack_corpus,
    samples_of,
)
from asrloop.distributed import Distributed
from tests.helpers import copy_corpus, make_cfg, streamed


def corpus_of(root: Path) -> Path:
    return Path(make_cfg(root).paths.corpus)


def corpus_rows(root: Path) -> dict[str, list]:
    return {split: list(iter_corpus(corpus_of(root), [split])) for split in ("train", "dev")}


@pytest.fixture(scope="module")
def packed(tiny_corpus, tmp_path_factory):
    """(rows by split, packed folder) of the tiny corpus, 7 clips per shard."""
    rows = corpus_rows(tiny_corpus[1])
    folder = tmp_path_factory.mktemp("packed") / "packed"
    pack_corpus(rows, folder, 7, corpus_of(tiny_corpus[1]))
    return rows, folder


def test_shards_are_webdataset_tars_beside_their_manifests(packed):
    rows, folder = packed
    index = ShardStore(folder, folder.parent).index()
    assert sum(s.clips for s in index.shards) == len(rows["train"]) + len(rows["dev"])
    assert [s.split for s in index.shards] == sorted(s.split for s in index.shards)[::-1]
    originals = {row.id: row for split in rows.values() for row in split}
    store = ShardStore(folder, folder.parent)
    for shard in index.shards:
        with tarfile.open(folder / shard.tar) as tar:
            names = tar.getnames()
            keys = [name.rsplit(".", 1)[0] for name in names]
            assert names == [f"{k}.{ext}" for k in keys[::2] for ext in ("wav", "json")]
            manifest = store.rows(shard)
            for row, key in zip(manifest, keys[::2], strict=True):
                member = json.loads(tar.extractfile(f"{key}.json").read())
                assert member["text"] == row.text == originals[row.id].text
                audio, _ = decode_audio(tar.extractfile(f"{key}.wav").read(), key)
                assert len(audio) == samples_of(row)
                assert row.audio_filepath == f"{key}.wav"


def test_the_same_rows_pack_to_the_same_bytes(packed, tiny_corpus, tmp_path):
    rows, folder = packed
    again = pack_corpus(rows, tmp_path / "again", 7, corpus_of(tiny_corpus[1]))
    assert again == ShardStore(folder, folder.parent).index()
    for shard in again.shards:
        assert (tmp_path / "again" / shard.tar).read_bytes() == (folder / shard.tar).read_bytes()


def test_an_unreadable_clip_is_named_and_left_out(tiny_corpus, tmp_path):
    copy_corpus(tiny_corpus[1], tmp_path)
    rows = corpus_rows(tmp_path)
    broken = rows["train"][3]
    broken.audio_path.write_bytes(b"RIFF not audio at all")
    index = pack_corpus(rows, tmp_path / "packed", 7, corpus_of(tmp_path))
    assert len(index.skipped) == 1 and str(broken.audio_path.name) in index.skipped[0]
    assert sum(s.clips for s in index.split("train")) == len(rows["train"]) - 1


def test_a_grown_corpus_repacks_only_its_new_shard(tiny_corpus, tmp_path):
    copy_corpus(tiny_corpus[1], tmp_path)
    corpus, folder = corpus_of(tmp_path), tmp_path / "packed"
    first = pack_corpus(corpus_rows(tmp_path), folder, 7, corpus)
    inodes = {s.name: (folder / s.tar).stat().st_ino for s in first.shards}
    grown = corpus / "grown" / "drop-1"
    shutil.copytree(corpus / "base" / "train-000", grown)
    second = pack_corpus(corpus_rows(tmp_path), folder, 7, corpus)
    new = [s for s in second.shards if s.name not in inodes]
    assert {s.source for s in new} == {"grown/drop-1"} and sum(s.clips for s in new) == 20
    kept = [s for s in second.shards if s.name in inodes]
    assert kept == list(first.shards)  # same entries, same order, before the new shard's
    assert all((folder / s.tar).stat().st_ino == inodes[s.name] for s in kept)  # not rewritten


def test_an_index_in_another_format_names_the_file_and_field(packed, tmp_path):
    folder = tmp_path / "packed"
    shutil.copytree(packed[1], folder)
    index = json.loads((folder / INDEX).read_text())
    (folder / INDEX).write_text(json.dumps({**index, "format": "webdataset"}))
    with pytest.raises(PackedCorpusError, match=r"index\.json: field 'format'"):
        ShardStore(folder, tmp_path).index()
    del index["shards"][0]["sha256"]
    (folder / INDEX).write_text(json.dumps(index))
    with pytest.raises(PackedCorpusError, match=r"index\.json: shards\[0\].*sha256"):
        ShardStore(folder, tmp_path).index()


@pytest.mark.parametrize("model", ["", "wav2vec2_tiny"])
def test_frames_planned_from_the_manifest_are_the_features_frames(packed, model):
    data = streamed(packed[1], model=model)
    examples = data.examples("train", limit=12)
    planned = [c for shard in data.corpus.shards("train") for c in data._planned[shard.name]]
    assert [e.frames for e in examples] == [c.frames for c in planned[:12]]


def test_processes_read_disjoint_shards_and_take_the_same_steps(packed):
    data = streamed(packed[1], buffer=10, shuffle=True)
    world = 2
    epochs = [data.epoch(0, Distributed(rank, world), max_batch_frames=1500) for rank in (0, 1)]
    plans = epochs[0].plans
    assert [p.listings for p in plans] == [p.listings for p in epochs[1].plans]
    first, second = ({listing.shard.name for listing in p.listings} for p in plans)
    assert not first & second
    assert first | second == {s.name for s in data.corpus.shards("train")}
    assert len(epochs[0]) == len(epochs[1]) == min(len(p.batches) for p in plans)
    rank_batches = [list(epoch.shares(0)) for epoch in epochs]
    for step in range(len(epochs[0])):
        assert epochs[0].clips(step) == sum(len(b[step]) for b in rank_batches)
    ids = [{e.id for batch in b for e in batch} for b in rank_batches]
    assert not ids[0] & ids[1]


def test_batches_stay_within_their_window_and_shard_order_changes_per_epoch(packed):
    data = streamed(packed[1], buffer=10, shuffle=True)
    plan = data.epoch(0, Distributed(), max_batch_frames=1500).plans[0]
    assert all(len({p // 10 for p in batch}) == 1 for batch in plan.batches)
    assert sorted(p for b in plan.batches for p in b) == list(range(len(plan.clips)))
    orders = [
        [x.shard.name for x in data.epoch(e, Distributed(), 1500).plans[0].listings]
        for e in range(4)
    ]
    assert len({tuple(order) for order in orders}) > 1
    assert sorted(orders[0]) == sorted(orders[1])


def grown_packed(tiny_corpus, root: Path) -> Path:
    """The tiny corpus with a grown shard (a train shard's rows as a drop's), packed."""
    copy_corpus(tiny_corpus[1], root)
    corpus = corpus_of(root)
    grown = corpus / "grown" / "drop-1"
    shutil.copytree(corpus / "base" / "train-001", grown)
    manifest = grown / "manifest.jsonl"
    manifest.write_text(manifest.read_text().replace('"source": "', '"source": "drop/d1-'))
    pack_corpus(corpus_rows(root), root / "packed", 7, corpus)
    return root / "packed"


def test_a_replay_epoch_holds_the_grown_shards_and_whole_base_shards(tiny_corpus, tmp_path):
    data = streamed(grown_packed(tiny_corpus, tmp_path), buffer=10, shuffle=True)
    grown_ids = {
        c.row.id
        for s in data.corpus.shards("train")
        if data._grown(s)
        for c in data._planned[s.name]
    }
    assert len(grown_ids) == 20
    picks = []
    for epoch in range(3):
        plan = data.epoch(epoch, Distributed(), 1500, replay=0.5, grown_repeat=2).plans[0]
        grown = [c for x in plan.listings if data._grown(x.shard) for c in x.clips]
        base = [c for x in plan.listings if not data._grown(x.shard) for c in x.clips]
        assert sorted(c.row.id for c in grown) == sorted(list(grown_ids) * 2)  # repeated
        grown_seconds = sum(c.row.duration for c in grown)
        base_seconds = sum(c.row.duration for c in base)
        wanted = 0.5 * grown_seconds
        assert wanted <= base_seconds < wanted + max(c.row.duration for c in base)
        partial = [x for x in plan.listings if len(x.clips) < len(data._planned[x.shard.name])]
        assert len(partial) <= 1  # base shards whole, but the last one
        picks.append({x.shard.name for x in plan.listings if not data._grown(x.shard)})
        streamed_ids = [
            e.id
            for batch in data.epoch(epoch, Distributed(), 1500, 0.5, 2).shares(0)
            for e in batch
        ]
        assert sorted(streamed_ids) == sorted(c.row.id for c in plan.clips)
    assert len({frozenset(p) for p in picks}) > 1  # drawn anew each epoch


def test_a_resumed_epoch_streams_the_batches_it_had_left(packed):
    data = streamed(packed[1], buffer=10, shuffle=True)
    epoch = data.epoch(1, Distributed(), max_batch_frames=1500)
    whole = [[e.id for e in batch] for batch in epoch.shares(0)]
    for start in (1, len(whole) // 2, len(whole) - 1):
        resumed = [[e.id for e in batch] for batch in epoch.shares(start)]
        assert resumed == whole[start:]
    features = {e.id: e.features for batch in epoch.shares(0) for e in batch}
    again = {e.id: e.features for batch in epoch.shares(3) for e in batch}
    assert all(np.array_equal(features[k], again[k]) for k in again)


def test_an_unreadable_clip_in_a_tar_is_reported_and_skipped(packed, tmp_path):
    folder = tmp_path / "packed"
    shutil.copytree(packed[1], folder)
    shard = ShardStore(folder, tmp_path).index().split("train")[1]
    with tarfile.open(folder / shard.tar) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    broken = members[0][0].name
    with tarfile.open(folder / shard.tar, "w") as tar:
        for member, body in members:
            body = b"not audio" if member.name == broken else body
            member.size = len(body)
            tar.addfile(member, io.BytesIO(body))
    data = streamed(folder)
    epoch = data.epoch(0, Distributed(), max_batch_frames=1500)
    streamed_ids = {e.id for batch in epoch.shares(0) for e in batch}
    planned = {c.row.id for c in epoch.plans[0].clips}
    assert len(planned - streamed_ids) == 1
    assert data.reports["train"].skipped["unreadable"] == 1
    assert broken in data.reports["train"].messages[0]


def test_an_oversized_member_is_refused_not_read_into_memory(packed, monkeypatch):
    """A tar member bigger than any clip (a hostile or broken shard) is unreadable, not loaded;
    a batch left with no readable clip stops training with the shard named."""
    from asrloop.corpus import packed as packed_module

    monkeypatch.setattr(packed_module, "MAX_CLIP_BYTES", 1000)  # every clip is bigger
    data = streamed(packed[1])
    epoch = data.epoch(0, Distributed(), max_batch_frames=1500)
    with pytest.raises(PackedCorpusError, match=r"every clip of a batch from \['train-"):
        next(epoch.shares(0))
    assert data.reports["train"].skipped["unreadable"] >= 1
