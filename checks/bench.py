"""Model stages of ``hw10 bench``: naive (one item at a time, as a Colab would) against ours
(batched, cached), measured side by side in one run. Run as ``python -m checks.bench STAGE``;
prints one JSON row per stage so the parent can add the child's peak memory.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageResult:
    stage: str
    naive_s: float | None
    ours_s: float
    note: str
    device: str


def _timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall time of ``repeat`` runs (after the caller's warm-up)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _architecture(device: str):
    from .mimi import MimiSource, load_mimi

    return load_mimi(MimiSource(ref="architecture", device=device, dtype="float32", seed=0))


def _speechlike(n: int, seconds: float, rate: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    clips = []
    for i in range(n):
        f0 = 110 + 20 * i
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
        clips.append((0.1 * x + 0.01 * rng.standard_normal(t.size)).astype(np.float32))
    return clips


def bench_mimi(device: str = "cpu", clips: int = 8, seconds: float = 4.0) -> StageResult:
    """Encode + decode ``clips`` clips of the full-size Mimi architecture: one at a time vs one batch."""
    import torch

    codec = _architecture(device)
    audio = _speechlike(clips, seconds, codec.sampling_rate)
    codec.decode(codec.encode(audio[:1]))  # warm-up

    def naive():
        for a in audio:
            codec.decode(codec.encode([a]))

    def ours():
        codec.decode(codec.encode(audio))

    naive_s, ours_s = _timed(naive), _timed(ours)
    total = clips * seconds
    return StageResult(f"Mimi encode+decode {clips}×{seconds:g} s", naive_s, ours_s,
                       f"{total / naive_s:.1f} → {total / ours_s:.1f} s of audio per s; torch threads "
                       f"{torch.get_num_threads()}", codec.info.device)


STAGES: dict[str, Callable[..., StageResult]] = {"mimi": bench_mimi}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in STAGES:
        print(f"usage: python -m checks.bench {{{','.join(STAGES)}}} [--device D]", file=sys.stderr)
        return 2
    device = argv[argv.index("--device") + 1] if "--device" in argv else "cpu"
    print(json.dumps(asdict(STAGES[argv[0]](device=device))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
