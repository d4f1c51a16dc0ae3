"""Data versions in a real git + DVC repo: tags, restore, and ``grow`` from a review queue."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from asrloop.artifacts import VALIDATION, Layout
from asrloop.corpus.drop import Drop
from asrloop.corpus.manifest import iter_corpus, read_manifest
from asrloop.corpus.versioning import (
    commit_version,
    corpus_tags,
    git,
    restore_version,
    track_shards,
)
from asrloop.inference.batch import Prediction
from asrloop.inference.types import Transcription, WordTiming
from asrloop.jsonio import iter_jsonl
from asrloop.loop import grow as grow_module
from asrloop.loop.grow_rounds import Shortfall, term_sentences, write_round
from asrloop.loop.lookalike_probe import LookalikeProbe
from asrloop.loop.review_queue import ReviewItem, write_queue
from asrloop.metrics import times_said
from asrloop.pipeline import repro, write_params
from asrloop.settings import typed
from asrloop.settings.grow import GrowRoundSettings
from asrloop.steps.grow import run as grow
from asrloop.text.vocabulary import build_vocabulary
from tests.helpers import TINY_CORPUS, init_project_repo, make_cfg

DROP = ["scenario.drop.size=16", "scenario.drop.holdout_share=0.25"]


@pytest.fixture(scope="module")
def versioned_template(tmp_path_factory):
    """A project repo whose base corpus (the pipeline's corpus stage) is corpus-v1, plus a drop
    and a review queue. Built once; each test works on its own copy."""
    root = init_project_repo(tmp_path_factory.mktemp("versioned") / "project")
    cfg = make_cfg(root, *TINY_CORPUS, *DROP, "loop.push=true")
    write_params(cfg)
    repro(root, ["corpus", "drop"])
    assert commit_version(Layout.from_paths(cfg.paths), "corpus: base") == "corpus-v1"
    build_vocabulary([r.text for r in iter_corpus(cfg.paths.corpus, ["train"])], cfg.paths.vocab)
    drop = Drop.of(typed(cfg).scenario.drop, Layout.from_paths(cfg.paths))
    review, held = drop.clips("review"), drop.clips("holdout")
    assert review and held
    queue = [
        ReviewItem(
            id=c.id,
            status="approved",
            reason="test",
            reference=c.text,
            voice=c.voice,
            audio_filepath=str(c.audio_path),
        )
        for c in review
    ]
    queue[0] = queue[0].replace(status="rejected")
    queue[1] = queue[1].replace(status="pending")
    queue.append(queue[2].replace(id=held[0].id, reference=held[0].text))  # held out
    write_queue(Path(cfg.paths.reviews) / drop.name, queue)
    return root, queue


@pytest.fixture
def versioned(versioned_template, tmp_path):
    template, queue = versioned_template
    root = tmp_path / "project"
    shutil.copytree(template, root, symlinks=True)
    return make_cfg(root, *TINY_CORPUS, *DROP, "loop.push=true"), root, queue


def grown_rows(cfg) -> list:
    folder = Path(cfg.paths.grown_corpus) / cfg.scenario.drop.name
    return read_manifest(folder / "manifest.jsonl")


def test_grow_adds_only_approved_review_clips_as_a_new_version(versioned):
    cfg, root, queue = versioned
    result = grow(cfg)
    assert result.tag == "corpus-v2" and corpus_tags(root) == ["corpus-v1", "corpus-v2"]
    clips = {r.extra["provenance"]["clip"] for r in grown_rows(cfg)}
    approved = {q.id for q in queue[2:-1]}
    assert clips == approved
    assert queue[0].id not in clips and queue[1].id not in clips  # rejected, pending
    assert queue[-1].id not in clips  # held out
    assert all(r.split == "train" and r.is_grown for r in grown_rows(cfg))
    assert cfg.scenario.terms[0] in result.new_words or not any(
        cfg.scenario.terms[0] in q.reference for q in queue[2:-1]
    )
    committed = git(root, "show", "--name-only", "--format=", "corpus-v2^{commit}").split()
    assert "data/corpus/grown/" + cfg.scenario.drop.name + ".dvc" in committed
    assert all(
        p.endswith((".dvc", ".gitignore", ".sha256", "dvc.lock", "params.yaml"))
        or p.startswith(("data/reviews/", "data/serving/"))
        for p in committed
    ), committed
    assert f"data/reviews/{cfg.scenario.drop.name}/queue.jsonl" in committed  # the decisions


def test_grow_twice_adds_nothing_twice(versioned):
    cfg, root, _ = versioned
    first = grow(cfg)
    rows = grown_rows(cfg)
    second = grow(cfg)
    assert second.tag == first.tag and not second.changed
    assert grown_rows(cfg) == rows and corpus_tags(root) == ["corpus-v1", "corpus-v2"]


def test_interrupted_grow_leaves_the_old_version_intact_and_a_rerun_completes(
    versioned, monkeypatch
):
    cfg, root, _ = versioned

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt("killed while committing")

    monkeypatch.setattr(grow_module, "commit_version", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grow(cfg)
    assert corpus_tags(root) == ["corpus-v1"]
    restore_version(Layout.from_paths(cfg.paths), "corpus-v1")
    assert not (Path(cfg.paths.grown_corpus) / cfg.scenario.drop.name).exists()
    git(root, "checkout", "--quiet", "main")
    monkeypatch.undo()
    assert grow(cfg).tag == "corpus-v2"


def test_restore_corpus_v1_after_v2_exists(versioned):
    cfg, root, _ = versioned
    before = sorted(r.id for r in iter_corpus(cfg.paths.corpus))
    grow(cfg)
    assert len(list(iter_corpus(cfg.paths.corpus))) > len(before)
    shutil.rmtree(Path(root) / ".dvc" / "cache")  # force the data to come from the remote
    restore_version(Layout.from_paths(cfg.paths), "corpus-v1")
    assert sorted(r.id for r in iter_corpus(cfg.paths.corpus)) == before
    restore_version(Layout.from_paths(cfg.paths), "corpus-v2")
    assert len(grown_rows(cfg)) > 0


def test_grow_keeps_validation_clips_out_of_the_shard(versioned):
    cfg, _, queue = versioned
    cfg.grow.validation_share = 0.5
    grow(cfg)
    folder = Path(cfg.paths.grown_corpus) / cfg.scenario.drop.name
    held = [entry for _, entry in iter_jsonl(folder / VALIDATION)]
    approved = queue[2:-1]
    saying = [q for q in approved if any(times_said(q.reference, t) for t in cfg.scenario.terms)]
    assert len(held) == int(len(saying) * 0.5)
    assert {e["id"] for e in held} <= {q.id for q in saying}
    trained = {r.extra["provenance"]["clip"] for r in grown_rows(cfg)}
    assert trained == {q.id for q in approved} - {e["id"] for e in held}


def test_a_growth_round_renders_targeted_clips_as_a_new_version(versioned):
    cfg, root, _ = versioned
    grow(cfg)
    layout, settings = Layout.from_paths(cfg.paths), typed(cfg).grow
    drop = cfg.scenario.drop.name
    rows = grown_rows(cfg)
    term = max(rows[0].text.split(), key=len)  # any word the approved clips say
    drops = [Drop.of(typed(cfg).scenario.drop, layout)]
    sentences = term_sentences(layout.grown_corpus, drops, [term])
    assert sentences[term]
    short = [Shortfall(term, 0.0, 5, 1.0, ("cat",))]
    amounts = GrowRoundSettings(renditions=6, contrastive=0.5)
    shard, count = write_round(
        layout.grown_corpus, drop, 1, short, sentences, amounts, settings.synthesize
    )
    assert shard.name == f"{drop}-round1" and count == 9
    made = read_manifest(shard / "manifest.jsonl")
    assert len(made) == 9 and all(r.is_grown and r.split == "train" for r in made)
    assert all(r.duration > 0.3 and r.audio_path.exists() for r in made)
    assert sum("cat" in r.text.split() for r in made) == 3  # contrastive: the look-alike said
    track_shards(root, [shard])
    assert commit_version(layout, "corpus: round 1") == "corpus-v3"
    # a rerun after a kill keeps the finished shard
    again = write_round(
        layout.grown_corpus, drop, 1, short, sentences, amounts, settings.synthesize
    )
    assert again == (shard, 9) and read_manifest(shard / "manifest.jsonl") == made


def test_grow_says_the_lookalikes_of_a_new_word_beside_it(versioned):
    """grow.contrast: base training sentences that say words sounding like the new term,
    rendered anew in another training voice, versioned with the grown shard."""
    cfg, root, _ = versioned
    cfg.grow.contrast.clips, cfg.grow.contrast.min_similarity = 4, 0.5
    result = grow(cfg)
    term = cfg.scenario.terms[0]
    assert term in result.new_words
    shard = Path(cfg.paths.grown_corpus) / f"{cfg.scenario.drop.name}-contrast"
    made = read_manifest(shard / "manifest.jsonl")
    assert len(made) == 4 and all(r.is_grown and r.split == "train" for r in made)
    assert all(r.duration > 0.3 and r.audio_path.exists() for r in made)
    base_rows = iter_corpus(Layout.from_paths(cfg.paths).base_corpus, ["train"])
    base = {r.text: r.voice for r in base_rows}
    for clip in made:
        assert clip.text in base and clip.voice != base[clip.text]
        assert term not in clip.text.split()
    committed = git(root, "show", "--name-only", "--format=", "corpus-v2^{commit}").split()
    assert f"data/corpus/grown/{shard.name}.dvc" in committed


def test_the_lookalike_probe_finds_false_alarms_and_a_round_says_their_words(versioned):
    """grow.probe: fresh renditions of base sentences saying look-alikes (none of the contrast
    shard's), decoded after the fine-tune; a term written there sends the words it was
    written for into the next round, said in other base sentences."""
    cfg, root, _ = versioned
    cfg.grow.contrast.clips, cfg.grow.contrast.min_similarity = 3, 0.5
    cfg.grow.probe.clips, cfg.grow.probe.min_similarity = 5, 0.4
    cfg.grow.round.false_alarm = 2
    grow(cfg)
    layout, settings = Layout.from_paths(cfg.paths), typed(cfg).grow
    drop, term = cfg.scenario.drop.name, cfg.scenario.terms[0]
    probe = LookalikeProbe.prepare(layout, settings, [term], "en", drop)
    assert probe is not None and len(probe.clips) == 5
    assert all(c.audio_path.exists() and c.duration > 0.3 for c in probe.clips)
    assert probe.clips[0].audio_path.is_relative_to(layout.lookalike_probe(drop))
    contrast = read_manifest(layout.grown_corpus / f"{drop}-contrast" / "manifest.jsonl")
    assert not {c.text for c in contrast} & {c.text for c in probe.clips}
    # a model that writes the term for each probe sentence's first word
    first_words = [c.text.split()[0] for c in probe.clips]

    def decode(clips, label):
        return [
            Prediction(
                c, Transcription(tuple(WordTiming(w, 0, 0, 1) for w in [term, *c.text.split()[1:]]))
            )
            for c in clips
        ]

    alarms = probe.false_alarms(decode)
    assert alarms == {term: Counter(first_words)}
    said = probe.round_rows(alarms, f"{drop}-round1")
    assert said and all(any(w in r.text.split() for w in first_words) for r in said)
    written = write_round(
        layout.grown_corpus, drop, 1, [], {}, settings.round, settings.synthesize, said
    )
    assert written is not None
    shard, count = written
    assert count == len(said)
    made = read_manifest(shard / "manifest.jsonl")
    assert sorted(r.text for r in made) == sorted(r.text for r in said)
    voices = {r.text: r.voice for r in said}
    assert all(r.voice != voices[r.text] for r in made)  # never the base clip's own voice
    track_shards(root, [shard])
    assert commit_version(layout, "corpus: round 1") == "corpus-v3"
    # a second prepare keeps the rendered probe
    again = LookalikeProbe.prepare(layout, settings, [term], "en", drop)
    assert again is not None and again.clips == probe.clips
