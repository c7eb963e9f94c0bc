"""Encoding many clips of different lengths with Mimi: one at a time (as a Colab does) or in batches.

Both ways zero-pad every clip to a whole number of frames (:func:`checks.audio.pad_to_multiple`) first.
Mimi is causal, so a frame's codes depend only on the samples up to the end of that frame: with whole
frames, padding a clip further at the end (to batch it with longer clips) leaves its codes unchanged,
and :func:`encode_batched` returns exactly what :func:`encode_naive` does (measured: identical codes on
the full-size architecture in float32 on the CPU). Without the frame padding the *last, partial* frame
of a clip differs between the two ways. :func:`bench_encoding` times both for ``hw10 bench``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from checks.audio import pad_to_multiple

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch


def frames_of(n_samples: int, hop: int) -> int:
    """Frames Mimi makes of ``n_samples``: ``ceil(n / hop)``."""
    return -(-int(n_samples) // int(hop))


def encode_naive(codec, clips: Sequence["np.ndarray"], num_quantizers: int) -> list["torch.Tensor"]:
    """Codes ``[K, T_i]`` of each clip, encoding one clip per call."""
    out = []
    for x in clips:
        x = pad_to_multiple(x, codec.hop)
        out.append(codec.encode([x], num_quantizers=num_quantizers)[0])
    return out


def encode_batched(codec, clips: Sequence["np.ndarray"], num_quantizers: int,
                   batch_size: int = 16) -> list["torch.Tensor"]:
    """Codes ``[K, T_i]`` of each clip (in the input order), encoding up to ``batch_size`` clips per call:
    clips sorted by length, each batch zero-padded to its longest clip, each clip's own frames kept."""
    import numpy as np

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    padded = [pad_to_multiple(x, codec.hop) for x in clips]
    order = sorted(range(len(padded)), key=lambda i: len(padded[i]))
    out: list = [None] * len(padded)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        longest = max(len(padded[i]) for i in idx)
        batch = [np.pad(padded[i], (0, longest - len(padded[i]))) for i in idx]
        codes = codec.encode(batch, num_quantizers=num_quantizers)
        for row, i in enumerate(idx):
            out[i] = codes[row, :, : frames_of(len(padded[i]), codec.hop)]
    return out


@dataclass(frozen=True)
class EncodingBench:
    """Naive against batched encoding of the same clips, measured in one run."""

    clips: int
    seconds_of_audio: float
    num_quantizers: int
    batch_size: int
    naive_s: float
    """Wall time, one clip per call (best of the repeats)."""
    batched_s: float
    """Wall time, ``batch_size`` clips per call (best of the repeats)."""
    identical: bool
    """Both ways gave the same codes for every clip."""

    @property
    def ratio(self) -> float:
        return self.naive_s / self.batched_s if self.batched_s > 0 else float("inf")


def bench_encoding(codec, clips: Sequence["np.ndarray"], num_quantizers: int, batch_size: int = 16,
                   repeats: int = 1) -> EncodingBench:
    """Time :func:`encode_naive` and :func:`encode_batched` on ``clips`` (best of ``repeats``) and compare codes."""
    import torch

    def best(fn):
        times, result = [], None
        for _ in range(max(1, repeats)):
            t = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t)
        return min(times), result

    naive_s, naive = best(lambda: encode_naive(codec, clips, num_quantizers))
    batched_s, batched = best(lambda: encode_batched(codec, clips, num_quantizers, batch_size))
    same = all(torch.equal(a, b) for a, b in zip(naive, batched))
    seconds = sum(len(x) for x in clips) / codec.sampling_rate
    return EncodingBench(len(clips), seconds, num_quantizers, batch_size, naive_s, batched_s, same)
