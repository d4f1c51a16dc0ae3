"""``asrloop corpus import``: every format, made from the project's own audio, imports into
shards that pass the data checks; what cannot be imported is reported, never dropped silently."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asrloop.checks.corpus import CorpusRules
from asrloop.checks.data import check_corpus
from asrloop.corpus.importer import detect_format
from asrloop.corpus.importer.clip import CorpusImportError
from asrloop.corpus.importer.importing import ImportSettings, import_corpus
from asrloop.corpus.manifest import iter_corpus
from asrloop.settings import typed
from asrloop.text.normalize import normalize_text
from tests.corpus_formats import SENTENCES, WRITERS, kaldi, nemo
from tests.helpers import make_cfg

# format -> (original sample rates, channels, splits the corpus defines itself)
EXPECTED = {
    "librispeech": ({16_000}, {1}, True),
    "commonvoice": ({48_000}, {1}, True),
    "ljspeech": ({22_050}, {1}, False),
    "kaldi": ({16_000}, {2}, True),
    "nemo": ({44_100}, {1}, False),
    "audiofolder": ({48_000, 16_000}, {1, 2}, True),
    "lhotse": ({16_000}, {1}, False),
}
SEGMENTED = {"kaldi", "nemo", "lhotse"}  # clips are stretches of longer recordings


def settings(project: Path, source: Path, fmt: str, *overrides: str):
    cfg = make_cfg(
        project,
        "corpus.source=import",
        f"corpus.importer.path={source}",
        f"corpus.importer.format={fmt}",
        "corpus.importer.workers=1",
        *overrides,
    )
    return cfg, ImportSettings.of(typed(cfg).corpus)


def checked(cfg):
    settings = typed(cfg)
    rules = CorpusRules.of(
        settings.checks.data, settings.features.sample_rate, settings.corpus, cfg.scenario.terms
    )
    return check_corpus(cfg.paths.corpus, rules)


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_format_imports_and_passes_the_data_checks(tmp_path, spoken, fmt):
    source = WRITERS[fmt](tmp_path / "source", spoken)
    assert detect_format(source) == fmt
    cfg, config = settings(tmp_path / "project", source, fmt)
    report = import_corpus(config, Path(cfg.paths.base_corpus))

    checks = checked(cfg)
    assert checks.passed, [f"{f.check}: {f.message} {f.rows[:3]}" for f in checks.errors]
    rows = list(iter_corpus(cfg.paths.base_corpus))
    assert report.clips == len(rows) == len(SENTENCES) and not report.excluded
    assert {r.text for r in rows} == {normalize_text(t) for t in SENTENCES}
    rates, channels, own_splits = EXPECTED[fmt]
    provenance = [r.extra["provenance"] for r in rows]
    assert {p["sample_rate"] for p in provenance} == rates
    assert {p["channels"] for p in provenance} == channels
    assert {p["raw_text"].lower() for p in provenance} == {s.lower() for s in SENTENCES}
    assert all(Path(p["path"]).exists() for p in provenance)
    assert report.resampled == {str(r): n for r, n in report.resampled.items()}
    assert sum(report.resampled.values()) == sum(p["sample_rate"] != 16_000 for p in provenance)
    assert report.downmixed == sum(p["channels"] > 1 for p in provenance)
    for row in rows:
        info = sf.info(row.audio_path)
        assert (info.samplerate, info.channels, info.subtype) == (16_000, 1, "PCM_16")
    assert {r.split for r in rows} >= {"train", "test", "regression"}
    if fmt != "ljspeech":  # one speaker: split by id, and the report says so
        train = {r.speaker for r in rows if r.split == "train"}
        assert train and not train & {r.speaker for r in rows if r.split in ("test", "dev")}
    else:
        assert any("split by clip id" in note for note in report.notes)
        missing = [f for f in checks.warnings if f.check == "schema"]  # no speaker: a warning
        assert missing and "speaker" in " ".join(missing[0].rows)
    if own_splits:  # kept: the test speakers of the fixtures are the corpus's test split
        assert not any("not a known split" in n for n in report.notes)


@pytest.mark.parametrize("fmt", sorted(SEGMENTED))
def test_segments_cut_at_their_offsets(tmp_path, spoken, fmt):
    """Each clip is its sentence's stretch of the long recording, not a neighbour's."""
    source = WRITERS[fmt](tmp_path / "source", spoken)
    cfg, config = settings(tmp_path / "project", source, fmt)
    import_corpus(config, Path(cfg.paths.base_corpus))
    by_text = {normalize_text(c.text): c for c in spoken}
    for row in iter_corpus(cfg.paths.base_corpus):
        original = by_text[row.text].audio
        audio, _ = sf.read(row.audio_path, dtype="float32")
        tail = 4800 if row.extra["provenance"].get("segment_duration") is None else 0  # end -1
        assert -160 * (3 if fmt == "nemo" else 1) <= len(audio) - len(original) <= 160 + tail
        if fmt != "nemo":  # same rate: the very samples (kaldi mixes 1.0 and 0.8 of them)
            scale = 0.9 if fmt == "kaldi" else 1.0
            n = min(len(audio), len(original))
            assert np.abs(audio[:n] - scale * original[:n]).max() < 2e-3
        assert row.extra["provenance"].get("offset", 0.0) >= 0.0


def test_text_it_cannot_write_and_missing_audio_are_reported_with_file_and_row(tmp_path, spoken):
    manifest = nemo(tmp_path / "source", spoken[:8])
    lines = manifest.read_text().splitlines()
    lines[2] = lines[2].replace('"text": "', '"text": "\u263a ')  # a symbol with no word
    lines[5] = lines[5].replace("audio/long", "audio/missing")
    manifest.write_text("\n".join(lines) + "\n")
    cfg, config = settings(tmp_path / "project", manifest, "nemo")
    report = import_corpus(config, Path(cfg.paths.base_corpus))
    assert report.clips == 6
    assert len(report.excluded) == 2
    assert report.excluded[0].startswith(f"{manifest}:3: ") and "\u263a" in report.excluded[0]
    assert report.excluded[1].startswith(f"{manifest}:6: audio file not found")


def test_shell_commands_run_only_when_allowed(tmp_path, spoken):
    data = kaldi(tmp_path / "source", spoken[:8])
    scp = data / "train" / "wav.scp"
    first, rest = scp.read_text().split("\n", 1)
    rec, path = first.split()
    scp.write_text(f"{rec} cat {data.parent / path} |\n{rest}")
    cfg, config = settings(tmp_path / "project", data, "kaldi")
    with pytest.raises(CorpusImportError, match=rf"{scp}:1: .*allow_shell_commands"):
        import_corpus(config, Path(cfg.paths.base_corpus))
    cfg, config = settings(
        tmp_path / "project", data, "kaldi", "corpus.importer.allow_shell_commands=true"
    )
    report = import_corpus(config, Path(cfg.paths.base_corpus))
    assert report.clips == 8 and not report.excluded
    piped = [r for r in iter_corpus(cfg.paths.base_corpus) if r.extra["provenance"].get("command")]
    assert piped and checked(cfg).passed


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_import_resumes_and_redoes_only_an_unfinished_shard(tmp_path, spoken):
    source = WRITERS["librispeech"](tmp_path / "source", spoken)
    cfg, config = settings(tmp_path / "project", source, "librispeech", "corpus.shard_size=4")
    base = Path(cfg.paths.base_corpus)
    import_corpus(config, base)
    before = {p: p.stat().st_mtime_ns for p in base.rglob("*.wav")}
    (base / "train-001" / "manifest.jsonl").unlink()  # as if interrupted before the manifest
    import_corpus(config, base)
    redone = {p for p in base.rglob("*.wav") if p.stat().st_mtime_ns != before.get(p)}
    assert redone and {p.parent.name for p in redone} == {"train-001"}
    assert checked(cfg).passed
