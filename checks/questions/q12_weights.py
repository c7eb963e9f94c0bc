"""What q12 compares between CSM's codec and a standalone Mimi: their configs and their weights.

:func:`config_differences` compares two config dicts entry by entry, skipping how a checkpoint was
saved or is run (:data:`CONFIG_METADATA_KEYS`). :func:`compare_state_dicts` compares two modules'
state dicts tensor by tensor (names, shapes, values) and hashes each (sha256), at the lower
precision of the two, so a CSM running in bfloat16 is compared with a float32 Mimi rounded the same
way. torch is imported inside the functions.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping

CONFIG_METADATA_KEYS = frozenset({
    "transformers_version", "_name_or_path", "architectures", "dtype", "torch_dtype", "_commit_hash",
    "_attn_implementation", "_attn_implementation_autoset", "_attn_implementation_internal",
    "_experts_implementation", "output_hidden_states", "output_attentions", "return_dict", "use_cache",
})
"""Config entries that say how a model was saved or is run, not what it computes."""


def config_differences(a: Mapping[str, Any], b: Mapping[str, Any],
                       ignore: frozenset[str] = CONFIG_METADATA_KEYS) -> dict[str, tuple[Any, Any]]:
    """``{key: (a's value, b's value)}`` for every entry that differs (missing = ``None``), ``ignore`` skipped."""
    keys = (set(a) | set(b)) - ignore
    return {k: (a.get(k), b.get(k)) for k in sorted(keys) if a.get(k) != b.get(k)}


@dataclass(frozen=True)
class WeightComparison:
    """Two modules' state dicts compared tensor by tensor at one dtype."""

    dtype: str
    """The dtype both were compared (and hashed) in: the lower precision of the two."""
    sha256_a: str
    """Hash of the first state dict (name, shape, dtype and bytes of every tensor, in name order)."""
    sha256_b: str
    """Hash of the second, likewise."""
    tensors: int
    """Tensors in the union of both state dicts."""
    differing: list[str] = field(default_factory=list)
    """Names of tensors that differ in value, shape or presence (at most 10 listed)."""
    n_differing: int = 0
    """How many tensors differ."""

    @property
    def identical(self) -> bool:
        return self.n_differing == 0 and self.sha256_a == self.sha256_b


def _common_dtype(a, b):
    import torch

    if a == b:
        return a
    if torch.float32 in (a, b):
        return b if a == torch.float32 else a
    return torch.float32  # bfloat16 vs float16: neither holds the other; compare the widened values


def _tensor_bytes(t) -> memoryview:
    import torch

    t = t.detach().to("cpu").contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return memoryview(t.numpy()).cast("B")


def compare_state_dicts(a, b) -> WeightComparison:
    """Compare ``a.state_dict()`` with ``b.state_dict()`` (names, shapes, values) and hash both.

    Each is hashed as ``name, shape, bytes`` per tensor in name order, after casting floating tensors
    to the common dtype (the lower precision of the two models), so CSM's codec in bfloat16 hashes
    like a float32 Mimi rounded to bfloat16."""
    import torch

    sa, sb = a.state_dict(), b.state_dict()
    fa = next((t.dtype for t in sa.values() if t.is_floating_point()), torch.float32)
    fb = next((t.dtype for t in sb.values() if t.is_floating_point()), torch.float32)
    common = _common_dtype(fa, fb)
    ha, hb = hashlib.sha256(), hashlib.sha256()
    differing: list[str] = []
    names = sorted(set(sa) | set(sb))
    for name in names:
        ta, tb = sa.get(name), sb.get(name)
        if ta is not None and ta.is_floating_point():
            ta = ta.to(common)
        if tb is not None and tb.is_floating_point():
            tb = tb.to(common)
        for h, t in ((ha, ta), (hb, tb)):
            if t is not None:
                h.update(f"{name}|{tuple(t.shape)}|{t.dtype}|".encode())
                h.update(_tensor_bytes(t))
        if ta is None or tb is None or ta.shape != tb.shape or not torch.equal(ta.cpu(), tb.cpu()):
            differing.append(name)
    return WeightComparison(str(common).replace("torch.", ""), ha.hexdigest(), hb.hexdigest(), len(names),
                            differing[:10], len(differing))
