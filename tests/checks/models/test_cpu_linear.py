"""Linear layers through oneDNN on the CPU (checks/models/cpu_linear.py): the same results and the same parameters,
only where it applies."""
from __future__ import annotations

import pytest
import torch

from checks.models.cpu_linear import use_onednn_linears


def model(dtype=torch.float32):
    """A real little model: two layers of its own, a shared layer, and a `codec` whose layers must stay as they are."""
    torch.manual_seed(0)
    shared = torch.nn.Linear(16, 16)
    m = torch.nn.Module()
    m.body = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.Linear(64, 16, bias=False), shared)
    m.head = shared
    m.codec = torch.nn.Sequential(torch.nn.Linear(16, 8))
    return m.to(dtype)


def run(m, x):
    return m.codec(m.head(m.body(x)))


def test_same_results_same_parameters_and_the_skipped_part_untouched():
    m = model()
    before = {k: (v.data_ptr(), v.clone()) for k, v in m.state_dict().items()}
    inputs = [torch.randn(1, 32), torch.randn(5, 32), torch.randn(2, 3, 32), torch.randn(7, 32).t().contiguous().t()]
    with torch.no_grad():
        want = [run(m, x) for x in inputs]
        kernels = use_onednn_linears(m, skip=[m.codec])
        got = [run(m, x) for x in inputs]
    assert kernels.switched == 4 and kernels.why_not is None and "oneDNN (4 layers)" in kernels.describe()
    assert type(m.codec[0]) is torch.nn.Linear  # the skipped sub-module keeps PyTorch's own layer
    assert all(type(layer) is not torch.nn.Linear for layer in (m.body[0], m.body[2], m.head))
    for a, b in zip(want, got):
        assert a.shape == b.shape and torch.allclose(a, b, rtol=1e-5, atol=1e-6)
    after = m.state_dict()
    assert list(after) == list(before)  # same names: checkpoints, hashes and loading see no difference
    for k, (ptr, value) in before.items():
        assert after[k].data_ptr() == ptr and torch.equal(after[k], value)


def test_gradients_still_flow():
    """Training-style use (gradients on) takes torch's own linear: the kernel has no backward."""
    m = model()
    use_onednn_linears(m)
    loss = run(m, torch.randn(3, 32)).square().sum()
    loss.backward()
    assert m.body[0].weight.grad is not None and m.body[0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float64])
def test_other_dtypes_are_left_alone(dtype):
    m = model(dtype)
    kernels = use_onednn_linears(m)
    assert kernels.switched == 0 and kernels.why_not == "no float32 nn.Linear layers"
    assert type(m.body[0]) is torch.nn.Linear
    assert kernels.describe().startswith("linear layers through PyTorch's default kernel")


def test_a_float32_layer_given_another_dtype_at_run_time_uses_torchs_linear():
    m = model()
    use_onednn_linears(m)
    x = torch.randn(2, 32, dtype=torch.float64)
    with torch.no_grad():
        layer = m.body[0]
        got = layer(x.float())
        with pytest.raises(RuntimeError):  # what torch's own linear says about mixed dtypes, not a wrong number
            layer(x)
    assert got.dtype is torch.float32


class CastingLinear(torch.nn.Linear):
    """Like openai-whisper's `Linear` (the weight cast to the input's dtype): a subclass may compute otherwise."""

    def forward(self, x):
        bias = None if self.bias is None else self.bias.to(x.dtype)
        return torch.nn.functional.linear(x, self.weight.to(x.dtype), bias)


def test_subclasses_are_left_alone():
    m = torch.nn.Sequential(CastingLinear(8, 4), torch.nn.Linear(4, 2))
    assert use_onednn_linears(m).switched == 1
    assert type(m[0]) is CastingLinear and type(m[1]) is not torch.nn.Linear
