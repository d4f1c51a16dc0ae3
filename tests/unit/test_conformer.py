"""The project's Conformer computes torchaudio's function with torchaudio's parameters."""

import subprocess
import sys

import pytest
import torch
import torchaudio

from asrloop.model.conformer import Conformer, FastDropout

SIZE = dict(input_dim=32, num_heads=4, ffn_dim=64, num_layers=2, depthwise_conv_kernel_size=7)


def pair(dropout: float = 0.0) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    reference = torchaudio.models.Conformer(**SIZE, dropout=dropout)
    ours = Conformer(**SIZE, dropout=dropout)
    ours.load_state_dict(reference.state_dict(), strict=True)  # every name and shape matches
    return reference, ours


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    lengths = torch.tensor([23, 17, 9, 23])
    return torch.randn(4, 23, 32, generator=generator), lengths


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_same_outputs_and_gradients_as_torchaudio(mode):
    reference, ours = pair()
    x, lengths = batch()
    outputs, gradients = [], []
    for model in (reference, ours):
        model.train(mode == "train")  # train: BatchNorm uses the batch's statistics
        inputs = x.clone().requires_grad_()
        y, out_lengths = model(inputs, lengths)
        assert torch.equal(out_lengths, lengths)
        valid = torch.arange(23)[None, :] < lengths[:, None]
        (y[valid] ** 2).sum().backward()
        outputs.append(y[valid])
        gradients.append(inputs.grad)
    torch.testing.assert_close(outputs[1], outputs[0], atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(gradients[1], gradients[0], atol=2e-5, rtol=1e-4)


def test_checkpoints_load_both_ways():
    reference, ours = pair()
    reference.load_state_dict(ours.state_dict(), strict=True)
    assert set(reference.state_dict()) == set(ours.state_dict())


def test_fast_dropout_keeps_the_rate_and_scales_the_kept():
    torch.manual_seed(0)
    dropout = FastDropout(0.1).train()
    x = torch.ones(200_000, requires_grad=True)
    y = dropout(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.9) < 0.005
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.9))
    y.sum().backward()  # the gradient passes where the mask kept, scaled alike
    assert torch.equal(x.grad, y.detach())
    assert torch.equal(dropout.eval()(x), x)


def test_attention_dropout_in_training_only():
    _, ours = pair(dropout=0.3)
    x, lengths = batch()
    ours.eval()
    first, _ = ours(x, lengths)
    again, _ = ours(x, lengths)
    assert torch.equal(first, again)
    ours.train()
    torch.manual_seed(1)
    dropped, _ = ours(x, lengths)
    assert not torch.allclose(dropped, first)


def test_bf16_training_step_returns_for_a_shape_that_hung_onednn():
    """oneDNN's bf16 channels-last depthwise kernel never returned for this shape; the module
    runs that convolution in fp32. A subprocess, so a regression fails instead of hanging."""
    script = (
        "import torch\n"
        "from asrloop.model.conformer import ConvolutionModule\n"
        "module = ConvolutionModule(32, 15, 0.1).train()\n"
        "x = torch.randn(23, 84, 32, requires_grad=True)\n"
        "with torch.autocast('cpu', dtype=torch.bfloat16):\n"
        "    y = module(x)\n"
        "y.float().sum().backward()\n"
        "print(tuple(y.shape))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "(23, 84, 32)"
