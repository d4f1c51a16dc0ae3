"""Batch work's plan and its local executor: the batches every executor runs are planned once,
in length order, from the files' headers; unreadable and over-long clips are left out, named."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from asrloop.corpus.manifest import Utterance
from asrloop.errors import ConfigError
from asrloop.execution import LOCAL, executor_for
from asrloop.execution.ray_data import RayExecutor
from asrloop.inference.batch import plan_batches
from asrloop.settings.executor import ExecutorSettings


def clip(folder, name: str, seconds: float) -> Utterance:
    path = folder / f"{name}.wav"
    sf.write(path, np.zeros(int(16000 * seconds), np.float32), 16000)
    return Utterance(id=name, audio_filepath=str(path), duration=seconds)


def test_batches_are_planned_in_length_order_by_the_headers(tmp_path):
    rows = [clip(tmp_path, f"c{i}", s) for i, s in enumerate([3.0, 1.0, 2.0, 4.0, 1.5])]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not audio")
    rows.append(Utterance(id="broken", audio_filepath=str(broken), duration=0.5))
    rows.append(clip(tmp_path, "long", 9.0))

    batches, skipped = plan_batches(rows, batch_seconds=4.0, max_file_seconds=8.0)

    ids = [[rows[i].id for i in batch] for batch in batches]
    assert ids == [["c1", "c4", "c2"], ["c0", "c3"]]  # 1 + 1.5 + 2 reaches 4 s; then the rest
    assert len(skipped) == 2
    assert any("broken.wav" in message for message in skipped)
    assert any("long.wav" in message and "max_file_seconds=8" in message for message in skipped)


def test_the_local_executor_keeps_item_order_and_ray_settings_are_checked():
    assert executor_for(ExecutorSettings()) is LOCAL
    assert LOCAL.map(lambda item: item * 2, [3, 1, 2], "doubling") == [6, 2, 4]
    with pytest.raises(ConfigError, match=r"executor\.actors"):
        RayExecutor(ExecutorSettings(kind="ray", actors=0))
