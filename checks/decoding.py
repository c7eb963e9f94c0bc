"""Decoding many code tensors with one Mimi: one batched call by default, or a fixed number per call.

The checks decode everything in one call (on a GPU, the TA's case, that is what batching is for).
On the 2-core development CPU (shared with other jobs, load ≈ 3-4) the full-size Mimi decoding q09's
24 orders of a [1, 4, 81] file (6.5 s of audio each) measured, per repetition:

==========================  ============  ===============
torch threads               one call      24 calls of one
==========================  ============  ===============
1                           18.5-19.7 s   12.4-13.3 s
2                           13.0-21.8 s   41.4-67.1 s
==========================  ============  ===============

so one call is the robust choice on a CPU too: per-call overhead (thread synchronisation under
contention) hurts the small calls far more than cache pressure hurts the big one (~5 GB peak RSS for 24
clips). ``batch`` exists so that ``hw10 bench`` can compare and a memory-starved machine can cap it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch


def decode_many(codec, codes: "torch.Tensor", batch: int | None = None) -> "np.ndarray":
    """Audio ``[B, samples]`` for codes ``[B, layers, T]``: one decode call (``batch=None``) or ``batch`` at a time."""
    import numpy as np

    if batch is not None and batch < 1:
        raise ValueError(f"decode batch must be at least 1 (or None for one call), not {batch}")
    if batch is None or batch >= codes.shape[0]:
        return codec.decode(codes)
    return np.concatenate([codec.decode(codes[i:i + batch]) for i in range(0, codes.shape[0], batch)], axis=0)
