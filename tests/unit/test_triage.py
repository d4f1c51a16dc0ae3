"""Triage: reproducible selection outside the held-out part, the review queue, the analysis."""

import dataclasses
import json
import os
from pathlib import Path

import pytest

from asrloop.artifacts import Layout
from asrloop.config import compose
from asrloop.corpus.drop import Drop, is_holdout
from asrloop.inference.transcript import Transcript
from asrloop.inference.types import Transcription, WordTiming
from asrloop.loop.review_queue import ReviewItem, merge_queue, read_queue, write_queue
from asrloop.loop.reviewer import simulate_review
from asrloop.loop.triage import analyze, analyze_queue, select_clips
from asrloop.metrics import cer, group_wer, term_stats, wer
from asrloop.records import GroupScores, TermScores, TriageResult
from asrloop.settings import typed
from asrloop.settings.triage import ReviewerSettings, TriageSettings

SHARE, SEED = 0.5, 1234
DROP = Drop("news-drop1", Path("drops/news-drop1"), Path("references.jsonl"), SHARE, SEED)


def settings(**changes) -> TriageSettings:
    """The real triage config with test sizes."""
    base = typed(compose()).triage
    sizes = {"flagged": 8, "least_confident": 4, "random": 5, "top_phrases": 2, "seed": 7}
    return dataclasses.replace(base, **{**sizes, **changes})


def transcript(clip: str, text: str, voice: str, confidence: float) -> Transcript:
    heard = Transcription(tuple(WordTiming(w, 0.0, 0.1, confidence) for w in text.split()))
    return Transcript(clip, f"audio/{clip}.wav", 2.0, voice, heard, "1", "v")


def transcripts(n: int = 80) -> list[Transcript]:
    rows = []
    for i in range(n):
        text = "the bread sit deal was signed" if i % 4 == 0 else f"the council met on day {i}"
        voice = ["en-us+klatt2", "en+f2"][i % 2]
        rows.append(transcript(f"drop-{i:05d}", text, voice, round(0.5 + (i * 37 % 50) / 100, 2)))
    return rows


def references(rows: list[Transcript]) -> dict[str, str]:
    return {r.id: r.text.replace("bread sit", "brexit") for r in rows}


PHRASES = ["bread sit", "deal was"]


def test_selection_is_reproducible_and_never_held_out():
    rows = transcripts()
    first = select_clips(rows, PHRASES, settings(), DROP)
    assert first == select_clips(rows, PHRASES, settings(), DROP)
    ids = [s.id for s in first]
    assert len(ids) == len(set(ids)) == 8 + 4 + 5
    assert [s.rank for s in first] == list(range(1, len(ids) + 1))
    assert all(s.duration == 2.0 for s in first)
    assert not any(is_holdout(clip, SHARE, SEED) for clip in ids)
    reasons = [s.reason for s in first]
    assert reasons.count("random") == 5
    flagged = [s for s in first if s.reason.startswith("flagged")]
    assert len(flagged) == 8 and all("bread sit" in s.hypothesis for s in flagged)
    other = select_clips(rows, PHRASES, settings(seed=8), DROP)
    assert [s.id for s in other if s.reason == "random"] != [
        s.id for s in first if s.reason == "random"
    ]


def human_review(folder, decisions: dict[str, tuple[str, str]]) -> None:
    """A person edits the CSV: {clip id: (status, reference)}."""
    import csv

    path = folder / "queue.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["id"] in decisions:
            row["status"], row["reference"] = decisions[row["id"]]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    later = (folder / "queue.jsonl").stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))


def test_human_decisions_survive_rerun_and_demo_fill(tmp_path):
    rows = transcripts()
    selections = select_clips(rows, PHRASES, settings(), DROP)
    write_queue(tmp_path, merge_queue([], selections))
    assert [r.status for r in read_queue(tmp_path)] == ["pending"] * len(selections)
    approved_id, rejected_id = selections[0].id, selections[1].id
    human_review(
        tmp_path,
        {approved_id: ("approved", "a person typed this"), rejected_id: ("rejected", "noise")},
    )
    # re-running triage keeps the person's decisions, then the demo reviewer fills the rest
    write_queue(tmp_path, merge_queue(read_queue(tmp_path), selections))
    reviewed = simulate_review(read_queue(tmp_path), references(rows), ReviewerSettings())
    write_queue(tmp_path, reviewed)
    queue = {item.id: item for item in read_queue(tmp_path)}
    assert queue[approved_id].reference == "a person typed this"
    assert queue[approved_id].reviewer == ""
    assert queue[rejected_id].status == "rejected"
    others = [item for clip, item in queue.items() if clip not in (approved_id, rejected_id)]
    assert all(item.status == "approved" and item.reviewer for item in others)


def queue_item(clip, ref, hyp, status="approved", reason="random", voice="v1") -> ReviewItem:
    return ReviewItem(clip, status, reason, hyp, ref, voice, 0.5, f"{clip}.wav")


def test_rejected_row_never_counts_as_approved():
    queue = [
        queue_item("c1", "the brexit deal", "the bread sit deal"),
        queue_item("c2", "brexit talks", "bread sit talks", status="rejected"),
        queue_item("c3", "brexit vote", "bread sit vote", status="pending"),
    ]
    result = analyze(queue, {"the", "deal", "talks", "vote"}, settings(bootstrap=50))
    assert result.overall.clips == 1
    assert result.confusions == [
        {"ref": "brexit", "hyp": "bread sit", "op": "split", "count": 1, "examples": ["c1"]}
    ]
    assert result.oov == [{"word": "brexit", "count": 1, "examples": ["c1"]}]
    assert result.queue == {"approved": 1, "rejected": 1, "pending": 1}
    # the demo reviewer never turns a rejection into an approval
    filled = simulate_review(queue, {"c2": "brexit talks", "c3": "brexit vote"}, ReviewerSettings())
    assert [item.status for item in filled] == ["approved", "rejected", "approved"]


def test_term_stats_by_hand():
    refs = ["brexit talks on brexit", "the brexit deal", "no term here", "the prime minister spoke"]
    hyps = ["brexit talks on bread sit", "the brexit deal brexit", "no term here", "prime minister"]
    stats = term_stats(refs, hyps, ["Brexit", "prime minister", "referendum"])
    # brexit: said 2 written 1 (tp 1, fn 1); said 1 written 2 (tp 1, fp 1)
    assert stats["Brexit"] == TermScores(2 / 3, 2 / 3, 2, 1, 1, 3)
    assert stats["prime minister"] == TermScores(1.0, 1.0, 1, 0, 0, 1)
    assert stats["referendum"].support == 0 and stats["referendum"].recall == 0.0


def test_error_rates_handle_empty_text():
    assert wer(["a b c d"], ["a x c"]) == pytest.approx(0.5)
    assert wer(["", "a b"], ["x", "a b"]) == pytest.approx(0.5)
    assert wer([""], [""]) == 0.0 and wer([""], ["x"]) == 1.0 and wer([], []) == 0.0
    assert cer(["ab"], [""]) == 1.0
    items = [("v1", "a b", "a b"), ("v2", "a b", "a"), ("", "a", "")]
    assert group_wer(items) == {
        "unknown": GroupScores(1.0, 1, 1, cer=1.0),
        "v1": GroupScores(0.0, 1, 2, cer=0.0),
        "v2": GroupScores(0.5, 1, 2, cer=pytest.approx(2 / 3)),  # "a b" -> "a": 2 of 3 chars
    }


def test_triage_json_has_the_required_keys(tmp_path):
    write_queue(
        tmp_path,
        [
            queue_item("c1", "the brexit deal was signed", "the bread sit deal was signed"),
            queue_item("c2", "brexit talks resumed", "break it talks resumed", voice="v2"),
            queue_item("c3", "the vote", "the vote", reason="flagged: bread sit"),
            queue_item("c4", "after brexit", "after bread sit", reason="least confident (0.40)"),
            queue_item("c5", "a rejected clip", "noise", status="rejected"),
        ],
    )
    vocabulary = {"the", "deal", "was", "signed", "talks", "resumed", "vote", "after"}
    result, files = analyze_queue(
        tmp_path, tmp_path, vocabulary, settings(bootstrap=200, seed=0), "Triage: test"
    )
    assert TriageResult.load(tmp_path / "triage.json") == result
    saved = json.loads((tmp_path / "triage.json").read_text())
    assert saved == {"schema": TriageResult.schema(), **json.loads(json.dumps(result.to_dict()))}
    assert {"confusions", "oov", "per_voice", "sampled_wer"} <= set(saved)
    assert {"ref": "brexit", "hyp": "bread sit", "count": 2} in [
        {k: c[k] for k in ("ref", "hyp", "count")} for c in saved["confusions"]
    ]
    assert saved["oov"][0] == {"word": "brexit", "count": 3, "examples": ["c1", "c2", "c4"]}
    assert set(saved["per_voice"]) == {"v1", "v2"}
    sampled = saved["sampled_wer"]
    assert sampled["n"] == 2 and sampled["low"] <= sampled["wer"] <= sampled["high"]
    for name in ("report.md", "report.html", "confusions.png", "wer_by_voice.png"):
        assert (tmp_path / name).stat().st_size > 0 and tmp_path / name in files


def test_monitor_and_triage_steps_end_to_end(tmp_path):
    """`asrloop monitor` then `asrloop triage` on a tiny project: the real config, real files,
    a tmp SQLite MLflow. The planted split word ranks first and becomes one confusion."""
    from asrloop.corpus.manifest import Utterance, write_manifest
    from asrloop.inference.transcript import write_transcripts
    from asrloop.records import LowConfidenceReport, SpikeReport
    from asrloop.steps import monitor, triage

    cfg = compose([f"paths.root={tmp_path}", "triage.bootstrap=100", f"seed={SEED}"])
    train = [f"the council met on day {i} and the deal was signed" for i in range(200)]
    write_manifest(
        Path(cfg.paths.base_corpus) / "train-000/manifest.jsonl",
        [Utterance(f"t{i}", "a.wav", 1.0, t, split="train") for i, t in enumerate(train)],
    )
    drop = Drop.of(typed(cfg).scenario.drop, Layout.from_paths(cfg.paths))
    rows = transcripts()
    write_transcripts(cfg.transcribe.output, rows)
    write_manifest(
        drop.references,
        [Utterance(k, f"{k}.wav", 2.0, v, voice="v") for k, v in references(rows).items()],
    )
    monitor.run(cfg)
    monitored = Path(cfg.paths.reports) / "monitor" / drop.name
    spikes = SpikeReport.load(monitored / "spikes.json")
    assert spikes.spikes[0].ngram == "bread sit"
    shaky = LowConfidenceReport.load(monitored / "low_confidence.json")
    assert shaky.spans == tuple(sorted(shaky.spans, key=lambda s: (s.confidence, s.id, s.start)))
    triage.run(cfg)
    queue = read_queue(Path(cfg.paths.reviews) / drop.name)
    assert queue and all(item.status == "approved" for item in queue)
    assert not any(drop.is_holdout(item.id) for item in queue)
    saved = TriageResult.load(Path(cfg.paths.reports) / "triage" / drop.name / "triage.json")
    assert saved.confusions[0]["ref"] == "brexit"
    assert saved.confusions[0]["hyp"] == "bread sit"
