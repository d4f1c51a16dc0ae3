"""Weight averaging against forgetting (asrloop.model.averaging)."""

from __future__ import annotations

import pytest
import torch

from asrloop.model.averaging import average_weights


def test_each_shared_tensor_is_the_weighted_mean():
    start = {"w": torch.zeros(2, 2), "b": torch.ones(3)}
    tuned = {"w": torch.full((2, 2), 4.0), "b": torch.full((3,), 3.0)}
    out = average_weights(start, tuned, 0.25)
    assert torch.allclose(out["w"], torch.full((2, 2), 3.0))
    assert torch.allclose(out["b"], torch.full((3,), 2.5))
    assert average_weights(start, tuned, 0.0)["w"].equal(tuned["w"])
    assert average_weights(start, tuned, 1.0)["w"].equal(start["w"])


def test_grown_and_integer_tensors_keep_their_tuned_values():
    start = {"head": torch.zeros(3, 4), "steps": torch.tensor(5)}
    tuned = {"head": torch.ones(5, 4), "steps": torch.tensor(9), "new": torch.ones(2)}
    out = average_weights(start, tuned, 0.5)
    assert out["head"].equal(tuned["head"]) and out["steps"].item() == 9
    assert out["new"].equal(tuned["new"])


def test_a_share_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="share"):
        average_weights({}, {}, 1.5)
