"""Deterministic float32 for a key run: TF32 off everywhere, float32 matmuls at full precision, cuDNN's
autotuner off, and the dtype CSM may use on this device.

Why: on Ampere and newer GPUs cuDNN runs float32 convolutions in TF32 by default (``cudnn.allow_tf32`` is
True), a 10-bit mantissa. Mimi's ``input_proj``/``output_proj`` are 1-d convolutions, so a key computed on
such a GPU would compare a TF32 latent with a float32 table lookup (an audit emulating TF32 measured a lookup
error of 0.0100 and 98.75 % nearest-code agreement: q04 undecided). :func:`full_precision` sets every flag for
the duration of a key run and restores the caller's settings afterwards (a notebook's own torch settings are
left as they were); :func:`numerics_record` is what the key's provenance says about them.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["FULL_PRECISION", "bf16_supported", "full_precision", "numerics_record"]

FULL_PRECISION: dict[str, Any] = {
    "cudnn_allow_tf32": False,
    "cuda_matmul_allow_tf32": False,
    "float32_matmul_precision": "highest",
    "cudnn_benchmark": False,
    "cudnn_deterministic": True,
}
"""The settings a key run uses (PyTorch's names, lower-cased)."""


def _current(torch) -> dict[str, Any]:
    return {
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        "cuda_matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
    }


def _apply(torch, settings: dict[str, Any]) -> None:
    torch.backends.cudnn.allow_tf32 = settings["cudnn_allow_tf32"]
    torch.backends.cuda.matmul.allow_tf32 = settings["cuda_matmul_allow_tf32"]
    torch.set_float32_matmul_precision(settings["float32_matmul_precision"])
    torch.backends.cudnn.benchmark = settings["cudnn_benchmark"]
    torch.backends.cudnn.deterministic = settings["cudnn_deterministic"]


@contextmanager
def full_precision() -> Iterator[dict[str, Any] | None]:
    """Within the block: :data:`FULL_PRECISION`; yields the settings in force (``None`` without torch, where no
    model runs anyway). The settings before the block are restored after it, even on an error."""
    try:
        import torch
    except ImportError:
        yield None
        return
    before = _current(torch)
    _apply(torch, FULL_PRECISION)
    try:
        yield _current(torch)
    finally:
        _apply(torch, before)


def bf16_supported(device: str) -> bool:
    """Whether ``device`` runs bfloat16 natively (a CUDA GPU that says so; a Colab T4 does not)."""
    if not device.startswith("cuda"):
        return False
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def numerics_record(settings: dict[str, Any] | None) -> dict[str, Any]:
    """The provenance entry: the settings the run used (or why there were none)."""
    if settings is None:
        return {"settings": "none (torch is not installed: no model ran)"}
    return {"settings": dict(settings), "why": "full float32 on every device (TF32 off): the key must not depend "
                                              "on which GPU computed it"}
