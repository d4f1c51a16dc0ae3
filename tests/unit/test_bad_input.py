"""Bad input gets a clear error that names the file and the field, or is handled: nothing is
lost and nothing wrong is trained on."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from omegaconf import OmegaConf

from asrloop.config import compose, load_params
from asrloop.corpus.drop import Drop
from asrloop.corpus.manifest import Utterance
from asrloop.errors import ConfigError
from asrloop.loop.grow import approved_items
from asrloop.loop.review_queue import ReviewItem, read_queue, write_queue
from asrloop.pipeline import write_params
from asrloop.settings import typed
from tests.helpers import asrloop_cli

ALPHABET = compose().corpus.alphabet


def test_a_spreadsheet_saved_queue_keeps_every_row(tmp_path):
    """Excel and friends save UTF-8 CSV with a byte-order mark and CRLF line ends."""
    items = [ReviewItem(f"clip-{i}", "approved", "random", "hyp", f"ref {i}") for i in range(3)]
    _, csv_path = write_queue(tmp_path, items)
    text = csv_path.read_text(encoding="utf-8").replace("\n", "\r\n")
    csv_path.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    later = csv_path.stat().st_mtime_ns + 10**9
    os.utime(csv_path, ns=(later, later))
    assert [(i.id, i.status, i.reference) for i in read_queue(tmp_path)] == [
        (i.id, i.status, i.reference) for i in items
    ]


def test_reviewer_text_is_normalized_or_left_out_with_a_message(tmp_path, capsys):
    drop = Drop("d", tmp_path / "drops/d", tmp_path / "refs.jsonl", holdout_share=0.0, seed=1)
    items = [
        ReviewItem("ok", "approved", reference="The Minister, said: RAIN!"),
        ReviewItem("accents", "approved", reference="the café opened"),  # folded
        ReviewItem("greek", "approved", reference="Ελλάδα"),  # no letter the alphabet holds
        ReviewItem("empty", "approved", reference="  ...  "),
    ]
    write_queue(tmp_path / "queue", items)
    kept = approved_items(tmp_path / "queue", drop, ALPHABET, "en")
    assert [(i.id, i.reference) for i in kept] == [
        ("ok", "the minister said rain"),
        ("accents", "the cafe opened"),
    ]
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert "clip greek" in said and "clip empty" in said


def test_unknown_override_keys_are_errors(tmp_path):
    cfg = compose([f"paths.root={tmp_path}"])
    path = write_params(cfg)
    load_params(path, ["train.spec_augment.freq_masks=2"])  # a known key is fine
    with pytest.raises(
        ConfigError,
        match=r"train\.spec_augment\.freq_maks \(did you mean train\.spec_augment\.freq_masks\?\)",
    ):
        load_params(path, ["train.spec_augment.freq_maks=2"])
    # `dvc exp run -S` with a typo edits params.yaml itself
    data = OmegaConf.load(path)
    data.train.epochz = 3
    OmegaConf.save(data, path)
    with pytest.raises(ConfigError, match=r"train\.epochz"):
        load_params(path)


def test_files_longer_than_the_limit_are_skipped_unread(tmp_path):
    from asrloop.inference.batch import transcribe_utterances
    from asrloop.inference.loading import GREEDY
    from asrloop.inference.recognizer import Recognizer
    from asrloop.model.ctc_transformer import CtcTransformerConfig, CtcTransformerForCTC
    from asrloop.text.tokenizer import CharTokenizer

    tokenizer = CharTokenizer.from_texts(["abc"])
    model = CtcTransformerForCTC(
        CtcTransformerConfig(vocab_size=len(tokenizer), d_model=32, num_heads=2, num_layers=1)
    )
    model.save_pretrained(tmp_path / "model")
    tokenizer.save(tmp_path / "model")
    features = dataclasses.replace(typed(compose()).features, max_file_seconds=2.0)
    recognizer = Recognizer.from_dirs(tmp_path / "model", None, GREEDY, features, 20.0)
    rows = []
    for seconds in (1, 5):
        path = tmp_path / f"{seconds}s.wav"
        sf.write(path, np.zeros(16000 * seconds, np.float32), 16000)
        rows.append(Utterance(f"{seconds}s", str(path), float(seconds)))
    predictions, stats = transcribe_utterances(recognizer, rows, 30.0)
    assert [p.utterance.id for p in predictions] == ["1s"] and stats.skipped == 1


def asrloop(root: Path, *args: str) -> subprocess.CompletedProcess:
    return asrloop_cli(root, *args, check=False, timeout=120)


def test_a_step_failure_is_one_message_and_an_exit_code(tmp_path):
    result = asrloop(tmp_path, "vocab", "build")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("asrloop vocab build: no train rows")
    assert "Traceback" not in result.stderr


def test_a_second_loop_in_the_same_project_stops_at_once(tmp_path):
    from asrloop.lock import project_lock

    with project_lock(tmp_path, "loop"):
        result = asrloop(tmp_path, "loop", "experiment=tiny")
    assert result.returncode == 1
    assert f"PID {os.getpid()}" in result.stderr and "holds" in result.stderr


def test_a_broken_registry_never_reads_as_no_champion(tmp_path):
    from asrloop.model.registry import Registry
    from asrloop.tracking import TrackingSettings

    cfg = compose([f"paths.root={tmp_path}"])
    settings = TrackingSettings.resolve(typed(cfg).tracking, tmp_path)
    assert Registry(settings).alias_version("champion") is None  # empty registry: no champion
    broken = dataclasses.replace(settings, uri=f"sqlite:///{tmp_path}/broken.db")
    (tmp_path / "broken.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(Exception) as error:
        Registry(broken).alias_version("champion")
    assert "not a database" in str(error.value) or "file is not" in str(error.value)
