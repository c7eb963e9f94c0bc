"""Plotting kept apart from measuring: the Agg backend set once, and one way to save a figure.

matplotlib is imported inside the functions (importing this module is cheap).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["pyplot", "save_figure"]


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no window), without overriding a backend already
    chosen by the caller's process."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path | str, **savefig: Any) -> Path:
    """Save ``fig`` as ``path`` (its folder made first; ``savefig``: matplotlib's options); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, **savefig)
    return path
