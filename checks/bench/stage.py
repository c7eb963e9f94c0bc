"""What every ``hw10 bench`` stage shares: its result row, the timer, the models and signals it measures on.

A stage is a function ``(device=...) -> StageResult``; :mod:`checks.bench.stages` names them all and
``python -m checks.bench STAGE`` runs one in a child process (its peak memory is its own).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from checks.models.mimi import MimiSource, load_mimi

CHECKOUT = Path(__file__).resolve().parents[2]
"""The repository checkout the fixtures come from (bench runs from a checkout)."""
ASSETS = CHECKOUT / "fixtures" / "assets"
"""The committed stand-ins for the TA's assets."""


@dataclass(frozen=True)
class StageResult:
    stage: str
    naive_s: float | None
    ours_s: float
    note: str
    device: str


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall time of ``repeat`` runs (after the caller's warm-up)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def architecture(device: str):
    """The full-size Mimi architecture with seeded random weights (no download), float32 on ``device``: what
    the stages time."""
    return load_mimi(MimiSource(ref="architecture", device=device, dtype="float32", seed=0))


def speechlike(n: int, seconds: float, rate: int, seed: int = 0):
    """``n`` clips of ``seconds`` at ``rate``: a harmonic tone (110 + 20·i Hz, five partials) with a 3 Hz envelope
    and a little seeded noise, float32."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    clips = []
    for i in range(n):
        f0 = 110 + 20 * i
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
        clips.append((0.1 * x + 0.01 * rng.standard_normal(t.size)).astype(np.float32))
    return clips


def fixture_script(name: str):
    """A script of the repository's fixtures/ folder (``make_csm_fixture`` …), imported by path and registered
    in ``sys.modules`` (its dataclasses need that); bench and the tests run from a checkout."""
    import importlib.util

    path = CHECKOUT / "fixtures" / f"{name}.py"
    if not path.exists():
        raise RuntimeError(f"{path} not found: run hw10 bench from a checkout of the repository")
    spec = importlib.util.spec_from_file_location(f"hw10_fixture_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
