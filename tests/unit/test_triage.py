"""Triage: reproducible selection outside the held-out part, the review queue, the analysis."""

import json
import os

import pytest

from asrloop.corpus.plan import is_holdout
from asrloop.loop.triage import (
    analyze,
    analyze_queue,
    fill_queue_from_references,
    merge_queue,
    read_queue,
    select_clips,
    write_queue,
)
from asrloop.metrics import cer, group_wer, term_stats, wer

SHARE, SEED = 0.5, 1234
SIZES = {"flagged": 8, "least_confident": 4, "random": 5, "top_phrases": 2, "seed": 7}


def transcripts(n: int = 80) -> list[dict]:
    rows = []
    for i in range(n):
        text = "the bread sit deal was signed" if i % 4 == 0 else f"the council met on day {i}"
        rows.append(
            {
                "id": f"drop-{i:05d}",
                "audio_filepath": f"audio/drop-{i:05d}.wav",
                "text": text,
                "voice": ["en-us+klatt2", "en+f2"][i % 2],
                "confidence": round(0.5 + (i * 37 % 50) / 100, 2),
            }
        )
    return rows


def references(rows: list[dict]) -> dict[str, str]:
    return {r["id"]: r["text"].replace("bread sit", "brexit") for r in rows}


SPIKES = [{"ngram": "bread sit"}, {"ngram": "deal was"}]


def test_selection_is_reproducible_and_never_held_out():
    rows = transcripts()
    first = select_clips(rows, SPIKES, SIZES, SHARE, SEED)
    assert first == select_clips(rows, SPIKES, SIZES, SHARE, SEED)
    ids = [s["id"] for s in first]
    assert len(ids) == len(set(ids)) == 8 + 4 + 5
    assert not any(is_holdout(clip, SHARE, SEED) for clip in ids)
    reasons = [s["reason"] for s in first]
    assert reasons.count("random") == 5
    flagged = [s for s in first if s["reason"].startswith("flagged")]
    assert len(flagged) == 8 and all("bread sit" in s["hypothesis"] for s in flagged)
    other = select_clips(rows, SPIKES, {**SIZES, "seed": 8}, SHARE, SEED)
    assert [s["id"] for s in other if s["reason"] == "random"] != [
        s["id"] for s in first if s["reason"] == "random"
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
    selections = select_clips(rows, SPIKES, SIZES, SHARE, SEED)
    write_queue(tmp_path, merge_queue([], selections))
    assert [r["status"] for r in read_queue(tmp_path)] == ["pending"] * len(selections)
    approved_id, rejected_id = selections[0]["id"], selections[1]["id"]
    human_review(
        tmp_path,
        {approved_id: ("approved", "a person typed this"), rejected_id: ("rejected", "noise")},
    )
    # re-running triage keeps the person's decisions, then the demo reviewer fills the rest
    write_queue(tmp_path, merge_queue(read_queue(tmp_path), selections))
    write_queue(tmp_path, fill_queue_from_references(read_queue(tmp_path), references(rows)))
    queue = {row["id"]: row for row in read_queue(tmp_path)}
    assert queue[approved_id]["reference"] == "a person typed this"
    assert queue[approved_id]["reviewer"] == ""
    assert queue[rejected_id]["status"] == "rejected"
    others = [row for rid, row in queue.items() if rid not in (approved_id, rejected_id)]
    assert all(row["status"] == "approved" and row["reviewer"] for row in others)


def queue_row(clip, ref, hyp, status="approved", reason="random", voice="v1") -> dict:
    return {
        "id": clip,
        "reference": ref,
        "hypothesis": hyp,
        "status": status,
        "reason": reason,
        "voice": voice,
        "confidence": 0.5,
        "audio_filepath": f"{clip}.wav",
    }


def test_rejected_row_never_counts_as_approved():
    queue = [
        queue_row("c1", "the brexit deal", "the bread sit deal"),
        queue_row("c2", "brexit talks", "bread sit talks", status="rejected"),
        queue_row("c3", "brexit vote", "bread sit vote", status="pending"),
    ]
    result = analyze(queue, vocabulary={"the", "deal", "talks", "vote"}, bootstrap=50)
    assert result["overall"]["clips"] == 1
    assert result["confusions"] == [
        {"ref": "brexit", "hyp": "bread sit", "op": "split", "count": 1, "examples": ["c1"]}
    ]
    assert result["oov"] == [{"word": "brexit", "count": 1, "examples": ["c1"]}]
    assert result["queue"] == {"approved": 1, "rejected": 1, "pending": 1}
    # the demo reviewer never turns a rejection into an approval
    filled = fill_queue_from_references(queue, {"c2": "brexit talks", "c3": "brexit vote"})
    assert [row["status"] for row in filled] == ["approved", "rejected", "approved"]


def test_term_stats_by_hand():
    refs = ["brexit talks on brexit", "the brexit deal", "no term here", "the prime minister spoke"]
    hyps = ["brexit talks on bread sit", "the brexit deal brexit", "no term here", "prime minister"]
    stats = term_stats(refs, hyps, ["Brexit", "prime minister", "referendum"])
    # brexit: said 2 written 1 (tp 1, fn 1); said 1 written 2 (tp 1, fp 1)
    assert stats["Brexit"] == {
        "recall": 2 / 3,
        "precision": 2 / 3,
        "tp": 2,
        "fn": 1,
        "fp": 1,
        "support": 3,
    }
    assert stats["prime minister"] == {
        "recall": 1.0,
        "precision": 1.0,
        "tp": 1,
        "fn": 0,
        "fp": 0,
        "support": 1,
    }
    assert stats["referendum"]["support"] == 0 and stats["referendum"]["recall"] == 0.0


def test_error_rates_handle_empty_text():
    assert wer(["a b c d"], ["a x c"]) == pytest.approx(0.5)
    assert wer(["", "a b"], ["x", "a b"]) == pytest.approx(0.5)
    assert wer([""], [""]) == 0.0 and wer([""], ["x"]) == 1.0 and wer([], []) == 0.0
    assert cer(["ab"], [""]) == 1.0
    rows = [
        {"voice": "v1", "text": "a b", "pred_text": "a b"},
        {"voice": "v2", "text": "a b", "pred_text": "a"},
        {"text": "a", "pred_text": ""},
    ]
    assert group_wer(rows, "voice") == {
        "unknown": {"wer": 1.0, "clips": 1, "words": 1},
        "v1": {"wer": 0.0, "clips": 1, "words": 2},
        "v2": {"wer": 0.5, "clips": 1, "words": 2},
    }


def test_triage_json_has_the_required_keys(tmp_path):
    write_queue(
        tmp_path,
        [
            queue_row("c1", "the brexit deal was signed", "the bread sit deal was signed"),
            queue_row("c2", "brexit talks resumed", "break it talks resumed", voice="v2"),
            queue_row("c3", "the vote", "the vote", reason="flagged: bread sit"),
            queue_row("c4", "after brexit", "after bread sit", reason="least confident (0.40)"),
            queue_row("c5", "a rejected clip", "noise", status="rejected"),
        ],
    )
    vocabulary = {"the", "deal", "was", "signed", "talks", "resumed", "vote", "after"}
    result, files = analyze_queue(tmp_path, vocabulary, {"bootstrap": 200, "seed": 0})
    saved = json.loads((tmp_path / "triage.json").read_text())
    assert saved == json.loads(json.dumps(result))
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


@pytest.mark.slow
def test_monitor_and_triage_steps_end_to_end(tmp_path):
    """`asrloop monitor` then `asrloop triage` on a tiny project, tracked in a tmp SQLite MLflow."""
    from omegaconf import OmegaConf

    from asrloop.config import CONF_DIR
    from asrloop.corpus.manifest import write_manifest
    from asrloop.loop import monitor, triage

    train = [f"the council met on day {i} and the deal was signed" for i in range(200)]
    write_manifest(
        tmp_path / "corpus/base/train-000/manifest.jsonl",
        [{"audio_filepath": "a.wav", "duration": 1.0, "text": t, "split": "train"} for t in train],
    )
    rows = transcripts()
    write_manifest(tmp_path / "reports/transcripts/news-drop1/transcripts.jsonl", rows)
    write_manifest(
        tmp_path / "references/news-drop1.jsonl",
        [{"id": k, "text": v, "voice": "v"} for k, v in references(rows).items()],
    )
    cfg = OmegaConf.create(
        {
            "seed": SEED,
            "paths": {
                "root": str(tmp_path),
                "reports": str(tmp_path / "reports"),
                "references": str(tmp_path / "references"),
                "corpus": str(tmp_path / "corpus"),
            },
            "scenario": {"drop": {"name": "news-drop1", "holdout_share": SHARE}},
            "triage": OmegaConf.load(CONF_DIR / "triage/default.yaml"),
            "tracking": {
                "uri": f"sqlite:///{tmp_path}/mlflow.db",
                "artifact_root": str(tmp_path / "mlartifacts"),
                "experiment": "test",
            },
        }
    )
    cfg.triage.bootstrap = 100
    monitor.run(cfg)
    spikes = json.loads((tmp_path / "reports/monitor/news-drop1/spikes.json").read_text())
    assert spikes[0]["ngram"] == "bread sit"
    triage.run(cfg)
    folder = tmp_path / "reports/triage/news-drop1"
    queue = read_queue(folder)
    assert queue and all(row["status"] == "approved" for row in queue)
    assert not any(is_holdout(row["id"], SHARE, SEED) for row in queue)
    saved = json.loads((folder / "triage.json").read_text())
    assert saved["confusions"][0]["ref"] == "brexit"
    assert saved["confusions"][0]["hyp"] == "bread sit"
