"""Data checks on a tiny real corpus: the clean corpus passes, each planted bug is caught.

The corpus is synthesized once per module (a couple of dozen clips, espeak-ng); every planted bug
gets its own copy, so one bug never hides or causes another.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asrloop.checks.corpus import CorpusRules, all_audio_stats
from asrloop.checks.data import check_corpus as check
from asrloop.checks.report import CheckReport
from asrloop.checks.scenario import REGRESSION_FILE, regression_hash
from asrloop.config import compose
from asrloop.corpus.manifest import MANIFEST_NAME, iter_corpus
from asrloop.corpus.plan import plan_corpus
from asrloop.corpus.shards import render_shards
from asrloop.errors import ChecksFailed
from asrloop.settings import typed
from asrloop.steps.check_data import run

TINY = [
    "corpus.splits.train=12",
    "corpus.splits.dev=2",
    "corpus.splits.test=4",
    "corpus.splits.regression=4",
    "corpus.splits.test_neural=2",
    "corpus.shard_size=6",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(config, clean corpus folder) of a freshly synthesized tiny corpus."""
    root = tmp_path_factory.mktemp("asrloop")
    cfg = compose([f"paths.root={root}", *TINY])
    shards = plan_corpus(typed(cfg).corpus, forbidden_words=list(cfg.scenario.terms))
    render_shards(shards, Path(cfg.paths.base_corpus), workers=1)
    return cfg, Path(cfg.paths.corpus)


@pytest.fixture
def corpus_copy(tiny, tmp_path):
    """A private copy of the clean corpus: ``<tmp>/corpus``."""
    _, clean = tiny
    return Path(shutil.copytree(clean, tmp_path / "corpus"))


def check_corpus(root, cfg, only=None):
    settings = typed(cfg)
    rules = CorpusRules.of(
        settings.checks.data, settings.features.sample_rate, settings.corpus, cfg.scenario.terms
    )
    return check(root, rules, only)


def shard_rows(corpus: Path, shard: str) -> tuple[Path, list[dict]]:
    """A shard's manifest as raw JSON rows (the tests plant bugs the reader would refuse)."""
    manifest = corpus / "base" / shard / MANIFEST_NAME
    return manifest, [json.loads(line) for line in manifest.read_text().splitlines()]


def write_rows(manifest: Path, rows: list[dict]) -> None:
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))


def edit_row(corpus: Path, shard: str, index: int, **fields) -> dict:
    """Change fields of one manifest row; returns the row as it was."""
    manifest, rows = shard_rows(corpus, shard)
    before = dict(rows[index])
    rows[index].update(fields)
    write_rows(manifest, rows)
    return before


def findings(report: CheckReport, check: str, severity: str = "error") -> list[str]:
    """Rows named by the findings of one check."""
    return [
        row
        for f in report.findings
        if f.check == check and f.severity == severity
        for row in f.rows
    ]


def test_clean_corpus_has_no_errors(tiny):
    cfg, clean = tiny
    report = check_corpus(clean, cfg)
    assert report.passed, report.to_json()
    assert report.summary["rows"] == 24
    assert set(report.summary["splits"]) == {"train", "dev", "test", "regression", "test_neural"}
    assert report.seconds < 10
    data = json.loads(report.to_json())
    assert data["passed"] and data["n_errors"] == 0 and "leakage.voice" in data["checks"]


def test_process_pool_gives_the_same_stats(tiny):
    _, clean = tiny
    rows = list(iter_corpus(clean)) * 3  # enough clips for the pool to be used
    assert all_audio_stats(rows, workers=2) == all_audio_stats(rows, workers=1)


def test_leaked_test_sentence(tiny, corpus_copy):
    cfg, _ = tiny
    _, test_rows = shard_rows(corpus_copy, "test-000")
    edit_row(corpus_copy, "train-000", 2, text=test_rows[1]["text"])
    rows = findings(check_corpus(corpus_copy, cfg), "leakage.sentence")
    assert len(rows) == 1
    assert "train-000/manifest.jsonl:3 train-00002" in rows[0]
    assert test_rows[1]["id"] in rows[0]


def test_transcript_on_the_wrong_clip(tiny, corpus_copy):
    cfg, _ = tiny
    _, rows = shard_rows(corpus_copy, "train-000")
    shortest = min(range(len(rows)), key=lambda i: rows[i]["duration"])
    texts = sorted((r["text"] for r in rows), key=len)
    edit_row(corpus_copy, "train-000", shortest, text=f"{texts[-1]} {texts[-2]}")
    named = findings(check_corpus(corpus_copy, cfg), "labels.chars_per_second")
    assert [r for r in named if rows[shortest]["id"] in r] and len(named) == 1


def test_wrong_rate_file(tiny, corpus_copy):
    cfg, _ = tiny
    manifest, rows = shard_rows(corpus_copy, "train-001")
    wav = manifest.parent / rows[0]["audio_filepath"]
    audio, rate = sf.read(wav, dtype="float32")
    sf.write(wav, audio[::2], rate // 2, subtype="PCM_16")  # 8 kHz, same duration
    report = check_corpus(corpus_copy, cfg)
    assert findings(report, "audio.format") == [
        f"base/train-001/manifest.jsonl:1 {rows[0]['id']}: 8000 Hz, 1 channels"
    ]
    assert not findings(report, "audio.duration")


def test_duplicated_clip(tiny, corpus_copy):
    cfg, _ = tiny
    manifest, rows = shard_rows(corpus_copy, "train-001")
    source = manifest.parent / rows[2]["audio_filepath"]
    shutil.copy(source, manifest.parent / "copy.wav")
    rows.append({**rows[2], "id": "train-copy", "audio_filepath": "copy.wav"})
    write_rows(manifest, rows)
    report = check_corpus(corpus_copy, cfg)
    named = findings(report, "duplicates.audio")
    assert len(named) == 1 and "train-copy" in named[0] and rows[2]["id"] in named[0]
    assert findings(report, "duplicates.sentence_voice", "warning")


def test_heldout_voice_in_train(tiny, corpus_copy):
    cfg, _ = tiny
    heldout = cfg.corpus.voices.heldout[0]
    before = edit_row(corpus_copy, "train-001", 3, voice=heldout, speaker=heldout)
    named = findings(check_corpus(corpus_copy, cfg), "leakage.voice")
    assert named == [f"base/train-001/manifest.jsonl:4 {before['id']}: {heldout}"]


def test_empty_text(tiny, corpus_copy):
    cfg, _ = tiny
    before = edit_row(corpus_copy, "dev-000", 0, text="")
    named = findings(check_corpus(corpus_copy, cfg), "labels.empty")
    assert named == [f"base/dev-000/manifest.jsonl:1 {before['id']}"]


def test_symbols_outside_the_alphabet(tiny, corpus_copy):
    cfg, _ = tiny
    before = edit_row(corpus_copy, "dev-000", 1, text="Shares rose 5%")
    (named,) = findings(check_corpus(corpus_copy, cfg), "labels.alphabet")
    assert before["id"] in named and "%" in named and "S" in named


def test_silent_and_clipped_clips(tiny, corpus_copy):
    cfg, _ = tiny
    manifest, rows = shard_rows(corpus_copy, "train-000")
    folder = manifest.parent
    frames = sf.info(folder / rows[0]["audio_filepath"]).frames
    sf.write(folder / rows[0]["audio_filepath"], np.zeros(frames, np.float32), 16000)
    square = np.sign(np.sin(np.arange(frames) / 20)).astype(np.float32)
    sf.write(folder / rows[1]["audio_filepath"], square, 16000, subtype="PCM_16")
    report = check_corpus(corpus_copy, cfg)
    assert rows[0]["id"] in findings(report, "audio.silent")[0]
    assert rows[1]["id"] in findings(report, "audio.clipped")[0]


def test_corrupt_and_empty_clips_are_named_and_no_healthy_row(tiny, corpus_copy):
    """A file that is not audio and a file without samples are each named by an error (the
    retired ``data validate`` excluded them); no healthy row of the shard is named."""
    cfg, _ = tiny
    manifest, rows = shard_rows(corpus_copy, "train-000")
    folder = manifest.parent
    (folder / rows[0]["audio_filepath"]).write_bytes(b"RIFF this is not audio")
    sf.write(folder / rows[1]["audio_filepath"], np.zeros(0, np.float32), 16000)
    report = check_corpus(corpus_copy, cfg)
    (corrupt,) = findings(report, "audio.decode")
    assert rows[0]["id"] in corrupt and "cannot decode" in corrupt
    named = " ".join(row for f in report.findings if f.severity == "error" for row in f.rows)
    assert rows[1]["id"] in named
    assert not any(row["id"] in named for row in rows[2:])


def test_duration_mismatch_and_broken_rows(tiny, corpus_copy):
    cfg, _ = tiny
    before = edit_row(corpus_copy, "train-000", 4, duration=30.0)
    manifest, _ = shard_rows(corpus_copy, "dev-000")
    with manifest.open("a") as handle:
        handle.write("{not json\n")
    (
        corpus_copy
        / "base"
        / "test-000"
        / shard_rows(corpus_copy, "test-000")[1][0]["audio_filepath"]
    ).unlink()
    report = check_corpus(corpus_copy, cfg)
    assert before["id"] in findings(report, "audio.duration")[0]
    assert "dev-000/manifest.jsonl:3: not valid JSON" in findings(report, "schema")[0]
    assert "test-00000" in findings(report, "audio.decode")[0]


def test_emerging_term_only_allowed_in_grown_shards(tiny, corpus_copy):
    cfg, _ = tiny
    term = cfg.scenario.terms[0]
    before = edit_row(corpus_copy, "train-000", 5, text=f"talks on {term} resumed")
    grown_manifest, rows = shard_rows(corpus_copy, "train-001")
    grown = corpus_copy / "grown" / "drop1"
    shutil.copytree(grown_manifest.parent, grown)
    write_rows(
        grown / MANIFEST_NAME,
        [
            {**r, "id": f"g-{i}", "source": "drop/drop1", "text": f"{r['text']} after {term}"}
            for i, r in enumerate(rows[:1])
        ],
    )
    report = check_corpus(corpus_copy, cfg)
    named = findings(report, "scenario.terms")
    assert len(named) == 1 and before["id"] in named[0]


def test_regression_set_is_frozen(tiny, corpus_copy):
    cfg, _ = tiny
    assert check_corpus(corpus_copy, cfg).passed
    record = corpus_copy.parent / REGRESSION_FILE
    assert record.read_text().split()[0] == regression_hash(corpus_copy)
    assert check_corpus(corpus_copy, cfg).passed  # unchanged: same hash
    before = edit_row(corpus_copy, "regression-000", 0, text="a different sentence")
    assert findings(check_corpus(corpus_copy, cfg), "scenario.regression_hash") == [before["id"]]
    pinned = compose(
        [f"paths.root={corpus_copy.parent}", *TINY, "checks.data.regression_hash=0123abcd"]
    )
    assert findings(check_corpus(corpus_copy, pinned), "scenario.regression_hash")


def test_report_round_trip_and_table(tiny, tmp_path):
    cfg, clean = tiny
    report = check_corpus(clean, cfg)
    path = report.write(tmp_path / "checks" / "data.json")
    again = CheckReport.load(path)
    assert again.to_dict() == report.to_dict()
    assert again.table().row_count >= 1
    assert "data checks passed" in again.headline()


def test_run_writes_the_report_and_blocks_on_errors(tiny, corpus_copy):
    cfg, _ = tiny
    root = corpus_copy.parent
    cfg = compose([f"paths.root={root}", f"paths.corpus={corpus_copy}", *TINY])
    edit_row(corpus_copy, "dev-000", 0, text="")
    with pytest.raises(ChecksFailed, match=r"data checks failed \(labels.empty\)"):
        run(cfg)
    saved = CheckReport.load(root / "reports" / "checks" / "data.json")
    assert saved.failed_checks() == ["labels.empty"]


def test_dev_sentence_in_train(tiny, corpus_copy):
    cfg, _ = tiny
    _, dev = shard_rows(corpus_copy, "dev-000")
    before = edit_row(corpus_copy, "train-000", 1, text=dev[0]["text"])
    (named,) = findings(check_corpus(corpus_copy, cfg), "leakage.dev_sentence")
    assert before["id"] in named and dev[0]["id"] in named


def test_training_voice_in_the_test_split(tiny, corpus_copy):
    cfg, _ = tiny
    trained = cfg.corpus.voices.train[0]
    before = edit_row(corpus_copy, "test-000", 0, voice=trained, speaker=trained)
    (named,) = findings(check_corpus(corpus_copy, cfg), "leakage.test_voice")
    assert before["id"] in named and trained in named


def test_inflected_emerging_term_in_base_text(tiny, corpus_copy):
    cfg, _ = tiny
    term = cfg.scenario.terms[0]
    before = edit_row(corpus_copy, "train-000", 3, text=f"the {term}'s effect on prices")
    plural = edit_row(corpus_copy, "train-000", 4, text=f"two {term}s were reported")
    unrelated = edit_row(corpus_copy, "train-000", 5, text=f"{term[:-1]} is not the term")
    named = findings(check_corpus(corpus_copy, cfg), "scenario.terms")
    assert any(before["id"] in row for row in named)
    assert any(plural["id"] in row for row in named)
    assert not any(unrelated["id"] in row for row in named)


def test_audio_paths_that_leave_the_shard_are_rejected(tiny, corpus_copy):
    cfg, _ = tiny
    held = edit_row(corpus_copy, "train-000", 0, audio_filepath="../test-000/test-00000.wav")
    absolute = edit_row(corpus_copy, "train-000", 1, audio_filepath="/etc/passwd")
    named = findings(check_corpus(corpus_copy, cfg), "schema")
    assert any(held["id"] in row and "leaves the shard" in row for row in named)
    assert any(absolute["id"] in row for row in named)
    from asrloop.corpus.manifest import ManifestError, iter_corpus

    with pytest.raises(ManifestError, match=r"train-000/manifest.jsonl:1: field 'audio_filepath'"):
        list(iter_corpus(corpus_copy))
