"""A replay fine-tune's epoch: every grown clip, base clips worth ``replay`` times their audio,
in batches that keep ``train.max_batch_frames``."""

from types import SimpleNamespace

import torch

from asrloop.distributed import Distributed
from asrloop.model.training_data import Example
from asrloop.settings.train import TrainSettings
from asrloop.train import Trainer, TrainingData


def example(index: int, seconds: float, grown: bool) -> Example:
    frames = int(seconds * 100)
    return Example(f"c{index}", torch.zeros(frames, 1), [1], "a", "v", seconds, grown, frames)


def epoch(replay: float, max_batch_frames: int = 2000) -> tuple[list[list[int]], list[Example]]:
    trainer = object.__new__(Trainer)  # the batching needs only the train settings and the world
    train = TrainSettings(seed=0, max_batch_frames=max_batch_frames, replay=replay)
    trainer.job = SimpleNamespace(train=train)
    trainer.dist = Distributed()
    train = [example(i, 2.0 + (i % 7), grown=i < 10) for i in range(300)]
    data = TrainingData(None, None, None, None, train, [], [], {})
    return trainer.epoch_batches(data, epoch=0), train


def test_replay_epoch_holds_the_grown_clips_and_their_replay():
    batches, train = epoch(replay=3.0)
    picked = [i for batch in batches for i in batch]
    assert len(picked) == len(set(picked))
    assert set(range(10)) <= set(picked)  # every grown clip
    grown_seconds = sum(train[i].duration for i in range(10))
    base_seconds = sum(train[i].duration for i in picked if i >= 10)
    assert 3.0 * grown_seconds <= base_seconds < 3.0 * grown_seconds + 9.0


def test_replay_batches_keep_the_frame_budget():
    for budget in (2000, 8000):
        batches, train = epoch(replay=3.0, max_batch_frames=budget)
        sizes = [max(train[i].frames for i in b) * len(b) for b in batches]
        assert max(sizes) <= budget
        assert sum(sizes) / len(sizes) > budget / 2  # full batches, not a clip or two each
