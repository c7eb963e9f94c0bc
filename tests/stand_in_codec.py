"""A "codec" for the reconstruction checks (q07/q08) whose damage is known: the tests set the truth, not a model."""
from __future__ import annotations

import numpy as np


class StandInCodec:
    """A "codec" whose codes are the samples (16-bit steps, one code per sample) and whose decoder damages
    them in a known way: ``none``; ``noise``: Gaussian noise with RMS ``k · RMS(signal)``; ``length``: Gaussian
    noise with RMS ``k · seconds² · RMS(signal)``,
    so long sequences come back worse; ``zeros``: all zeros."""

    sampling_rate = 16000
    hop = 1
    num_quantizers = 32

    def __init__(self, damage: str = "none", k: float = 0.0008, seed: int = 0):
        self.damage, self.k, self.seed = damage, k, seed

    def encode(self, clips, num_quantizers=None):
        import torch

        x = np.stack([np.asarray(c, dtype=np.float32) for c in clips])
        return torch.from_numpy(np.round(x * 32767).astype(np.int64))[:, None, :].repeat(1, num_quantizers or 1, 1)

    def decode(self, codes):
        x = codes[:, 0].numpy().astype(np.float32) / 32767
        if self.damage == "zeros":
            return np.zeros_like(x)
        if self.damage == "noise":  # the same relative noise (RMS k · RMS(signal)) whatever the length
            rng = np.random.default_rng(self.seed)
            rms = np.sqrt(np.mean(x * x, axis=1, keepdims=True))
            return (x + rng.normal(size=x.shape) * self.k * rms).astype(np.float32)
        if self.damage == "length":
            rng = np.random.default_rng(self.seed)
            seconds = x.shape[1] / self.sampling_rate
            rms = np.sqrt(np.mean(x * x, axis=1, keepdims=True))
            return (x + rng.normal(size=x.shape) * self.k * seconds ** 2 * rms).astype(np.float32)
        return x
