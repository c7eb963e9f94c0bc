"""Linear layers through oneDNN on a CPU (float32): the same arithmetic, several times faster for the few rows of a
generation step.

On a CPU PyTorch computes a float32 ``nn.Linear`` with MKL's sgemm, which is slow for the 1–10 rows of a step that
generates one token per sample: measured on this project's 2-core machine with an 8192×2048 weight (one of
csm-1b's), 1 row 4.6 ms and 5 rows 14.4 ms, where oneDNN's inner product takes 3.0 and 4.7 ms. oneDNN is what
``torch.compile`` uses for CPU linears (``torch.ops.mkldnn._linear_pointwise``); it reads the weight as it is (no
copy, no extra memory). Same float32 IEEE arithmetic, another summation order: results differ in the last bits
(~1e-7 relative), like any other kernel choice.

:func:`use_onednn_linears` switches every ``nn.Linear`` of a model (except the sub-modules named in ``skip``) to a
module holding the *same* parameters, so the state dict, the weights' hashes and ``model.parameters()`` stay as they
were. It does nothing (and says why) off the CPU, outside float32, where this torch lacks the kernel, or where the
kernel disagrees with ``torch.nn.functional.linear`` on a probe. Gradients, other dtypes and other devices always
take the layer's own ``forward``.

torch is imported inside functions only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class LinearKernels:
    """What :func:`use_onednn_linears` did (goes into the model's provenance)."""

    switched: int
    """How many ``nn.Linear`` layers now run through oneDNN (0: none)."""
    why_not: str | None = None
    """Why nothing was switched; ``None`` when layers were."""

    def describe(self) -> str:
        if self.switched:
            return f"float32 linear layers through oneDNN ({self.switched} layers)"
        return f"linear layers through PyTorch's default kernel ({self.why_not})"


def _onednn(x, weight, bias):
    import torch

    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


def _kernel_agrees(weight, bias) -> str | None:
    """``None`` when oneDNN gives ``torch.nn.functional.linear``'s result on probes of 1, 5 and 2×3 rows; else
    why not."""
    import torch

    gen = torch.Generator().manual_seed(0)
    for shape in ((1, weight.shape[1]), (5, weight.shape[1]), (2, 3, weight.shape[1])):
        x = torch.randn(*shape, generator=gen, dtype=weight.dtype)
        try:
            got = _onednn(x, weight, bias)
        except (AttributeError, RuntimeError, NotImplementedError) as exc:
            return f"no oneDNN linear in this torch ({type(exc).__name__})"
        want = torch.nn.functional.linear(x, weight, bias)
        tolerance = 1e-5 * float(want.abs().max()) + 1e-6
        if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-4, atol=tolerance):
            return "oneDNN's linear disagreed with torch.nn.functional.linear on a probe"
    return None


def _layer_class():
    import torch

    class OneDnnLinear(torch.nn.Module):
        """A linear layer's own ``weight`` and ``bias``, computed by oneDNN for float32 on the CPU without gradients,
        and by the layer's own ``forward`` for everything else."""

        def __init__(self, linear: torch.nn.Linear):
            super().__init__()
            self.in_features, self.out_features = linear.in_features, linear.out_features
            self.weight = linear.weight
            self.bias = linear.bias
            object.__setattr__(self, "_own_forward", linear.forward)  # not a sub-module: no second copy in state_dict

        def forward(self, x):
            w = self.weight
            if (x.dtype is not torch.float32 or w.dtype is not torch.float32 or x.device.type != "cpu"
                    or w.device.type != "cpu" or (torch.is_grad_enabled() and (x.requires_grad or w.requires_grad))):
                return self._own_forward(x)
            return _onednn(x, w, self.bias)

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    return OneDnnLinear


def use_onednn_linears(model: Any, *, skip: Sequence[Any] = ()) -> LinearKernels:
    """Run ``model``'s float32 CPU ``nn.Linear`` layers through oneDNN (module docstring), leaving the sub-modules in
    ``skip`` (and everything under them) untouched; returns what was done. Subclasses of ``nn.Linear`` are left as
    they are (their ``forward`` may do something else)."""
    import torch

    params = list(model.parameters())
    if not params:
        return LinearKernels(0, "no parameters")
    if any(p.device.type != "cpu" for p in params):
        return LinearKernels(0, "not on the CPU")
    skipped = {id(m) for s in skip for m in s.modules()}
    targets = [(parent, name, child) for parent in model.modules() if id(parent) not in skipped
               for name, child in parent.named_children()
               if type(child) is torch.nn.Linear and id(child) not in skipped and child.weight.dtype is torch.float32]
    if not targets:
        return LinearKernels(0, "no float32 nn.Linear layers")
    with torch.no_grad():
        why = _kernel_agrees(targets[0][2].weight, targets[0][2].bias)
    if why:
        return LinearKernels(0, why)
    layer = _layer_class()
    for parent, name, child in targets:
        setattr(parent, name, layer(child))
    return LinearKernels(len(targets))
