"""How many clips or code tensors one Mimi call takes: it depends on where the model runs.

:func:`items_per_call` is the one rule: **all at once (or a spec's batch size) on a GPU** (what
batching is for: the TA's key run) and **one item per call on a CPU**, because on a CPU a big call
is slower and hungrier. :func:`decode_many` decodes by it (q09, q10, q07/q08's chunk test); q06's
encodes follow it too (:func:`checks.models.batch_encode.encode_batched`). Decoding measured on the 2-core
development CPU (idle), full-size
Mimi architecture, q09's 24 orders of a ``[1, 4, 81]`` file (6.5 s of audio each), one fresh process
per row, ``decode_many(codec, codes, B)`` timed once after loading:

==============  ========  ==========
items per call  time      peak RSS
==============  ========  ==========
1               8.0 s     1.0 GB
4               11.0 s    1.5 GB
24 (one call)   12.1 s    5.0 GB
==============  ========  ==========

(an earlier measurement under heavy contention from other jobs, load 3-4, favoured one call: small
calls suffer from thread synchronisation when the cores are shared; an explicit ``batch`` caps it
either way.) Encoding behaves alike (``hw10 bench --stages mimi,q06_encode``: 8 clips of 4 s, 1.3 s one
per call against 2.2 s in one call). Both are compute-bound on a CPU: no batching makes 24 decodes
cheaper than 24 times one decode there, which is why ``hw10 bench`` shows q09/q10 at about 1× on a CPU.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch


def on_cpu(codec) -> bool:
    """Whether ``codec`` (anything with a torch ``device`` or a device string) runs on the CPU."""
    device = getattr(codec, "device", "cpu")
    return str(getattr(device, "type", device)).startswith("cpu")


def items_per_call(codec, n: int, batch: int | None = None, accelerator_batch: int | None = None) -> int:
    """How many of ``n`` items one call takes: ``batch`` when given; else one on a CPU and, on an accelerator,
    ``accelerator_batch`` (e.g. a spec's batch size) or all of them (module docstring)."""
    for name, value in (("batch", batch), ("accelerator batch", accelerator_batch)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1 (or None for the device's default), not {value}")
    if batch is None:
        batch = 1 if on_cpu(codec) else (accelerator_batch or n)
    return min(batch, max(n, 1))


def decode_many(codec, codes: "torch.Tensor", batch: int | None = None) -> "np.ndarray":
    """Audio ``[B, samples]`` for codes ``[B, layers, T]``, ``batch`` items per call (``None``: the device's
    default, :func:`items_per_call`). The result does not depend on ``batch`` beyond float rounding."""
    import numpy as np

    step = items_per_call(codec, codes.shape[0], batch)
    if step >= codes.shape[0]:
        return codec.decode(codes)
    return np.concatenate([codec.decode(codes[i:i + step]) for i in range(0, codes.shape[0], step)], axis=0)


def describe_batch(codec, n: int, batch: int | None = None) -> str:
    """``"decode 1/call"`` or ``"decode 24 in 1 call"``: for reports and ``hw10 bench``."""
    step = items_per_call(codec, n, batch)
    return f"decode {n} in 1 call" if step >= n else f"decode {step}/call"
