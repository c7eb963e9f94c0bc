"""Generated probe signals (seeded), for checks whose answer does not depend on what is said."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


def probe_signal(seconds: float, rate: int, seed: int, batch: int = 1) -> "np.ndarray":
    """``[batch, round(seconds * rate)]`` float32: a few harmonics with a slow vibrato plus a little noise,
    a different seeded signal per batch item, peak about 0.3."""
    import numpy as np

    n = int(round(seconds * rate))
    if n <= 0:
        raise ValueError(f"a probe of {seconds} s at {rate} Hz has no samples")
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    out = np.empty((batch, n), dtype=np.float32)
    for b in range(batch):
        f0 = rng.uniform(100, 250)
        phase = 2 * np.pi * f0 * t + 3 * np.sin(2 * np.pi * rng.uniform(2, 6) * t)
        x = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.1 + rng.normal(0, 0.01, n)
        out[b] = x.astype(np.float32)
    return out
