"""Gain augmentation on cached log-mel features is the same as scaling the waveform."""

from __future__ import annotations

import numpy as np
import torch

from asrloop.audio.features import FbankExtractor, gain_augment


def test_log_mel_shift_equals_a_waveform_gain():
    rng = np.random.default_rng(0)
    wave = (0.3 * rng.standard_normal(8000)).astype(np.float32)
    extractor = FbankExtractor()
    clean = extractor(wave)
    features = torch.zeros(2, clean.shape[0] + 5, clean.shape[1])
    features[0, : clean.shape[0]] = clean
    lengths = torch.tensor([clean.shape[0], 0])

    generator = torch.Generator().manual_seed(3)
    gain_augment(features, lengths, 6.0, generator)
    shift = float(features[0, 0, 0] - clean[0, 0])
    gain_db = shift * 10 / np.log(10)
    assert 0 < abs(gain_db) <= 6.0
    louder = extractor(wave * 10 ** (gain_db / 20))
    above_floor = clean > -6  # the log floor (1e-6) bends bins near it; speech sits far above
    assert above_floor.float().mean() > 0.9
    assert torch.allclose(
        features[0, : clean.shape[0]][above_floor], louder[above_floor], atol=1e-3
    )
    assert not features[0, clean.shape[0] :].any()  # padding untouched
    assert not features[1].any()  # an empty clip stays empty


def test_zero_gain_changes_nothing():
    features = torch.ones(1, 4, 3)
    gain_augment(features, torch.tensor([4]), 0.0, torch.Generator().manual_seed(0))
    assert torch.equal(features, torch.ones(1, 4, 3))
