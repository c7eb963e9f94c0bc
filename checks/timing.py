"""Where the time of a measurement goes, part by part (decode, ASR, speaker embedding), for ``hw10 bench``.

The functions that both sides of a bench stage run take an optional :class:`PartClock`; ``None``
(what the checks pass) costs nothing.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator


@dataclass
class PartClock:
    """Wall seconds accumulated per named part."""

    seconds: dict[str, float] = field(default_factory=dict)
    """Part name → seconds, in the order the parts first ran."""

    def text(self) -> str:
        """``"decode 8.0 s + asr 6.1 s"``."""
        return " + ".join(f"{name} {s:.1f} s" for name, s in self.seconds.items())


@contextmanager
def part(clock: PartClock | None, name: str) -> Iterator[None]:
    """Add the wall time of the ``with`` body to ``clock.seconds[name]`` (nothing when ``clock`` is None)."""
    if clock is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        clock.seconds[name] = clock.seconds.get(name, 0.0) + time.perf_counter() - start
