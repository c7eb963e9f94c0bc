"""Artifacts of the layer-surgery checks (q09, q10): WAV files to listen to and the two plots.

Plots are drawn on a bare matplotlib ``Figure`` with the Agg canvas (no pyplot, no global backend
switch). numpy, soundfile and matplotlib are imported inside the functions.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from checks import audio
from checks.plots import save_figure

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


def write_wav(path: Path, samples: "np.ndarray", rate: int) -> float:
    """Write mono 16-bit PCM (:func:`checks.audio.write_wav`); a clip peaking above full scale is scaled down to
    peak 0.99 first (a random-weight decoder can output values far beyond ±1). Returns the gain applied (1.0 =
    none)."""
    import numpy as np

    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    gain = 0.99 / peak if peak > 1.0 else 1.0
    audio.write_wav(path, x * gain, rate)
    return gain


def scaling_note(gains: dict[str, float]) -> list[str]:
    """One note naming the WAVs :func:`write_wav` had to scale down (empty when none)."""
    scaled = {name: g for name, g in gains.items() if g != 1.0}
    if not scaled:
        return []
    lo, hi = min(scaled.values()), max(scaled.values())
    span = f"{lo:.3g}" if lo == hi else f"{lo:.3g}–{hi:.3g}"
    return [f"decoded audio peaked above full scale in {', '.join(scaled)}: written scaled down by {span}"]


def _save(fig, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    return save_figure(fig, path, dpi=110)


def plot_order_heatmap(path: Path, order_labels: Sequence[str], letters: Sequence[str],
                       wer: Sequence[Sequence[float]], best: tuple[int, int] | None, title: str,
                       wer_max: float) -> Path:
    """WER heat map: one row per layer order, one column per option sentence; the best cell boxed.

    ``wer[i][j]`` is order ``i``'s transcript against sentence ``j``; colours are clipped at 1."""
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    data = np.clip(np.asarray(wer, dtype=float), 0.0, 1.0)
    fig = Figure(figsize=(4.8, 0.26 * len(order_labels) + 1.6))
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(data, aspect="auto", cmap="viridis_r", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(letters)), [f"option {x}" for x in letters])
    ax.set_yticks(range(len(order_labels)), order_labels, fontsize=7)
    ax.set_ylabel("guess (shuffled rows read as layers 0…n)")
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            raw = float(np.asarray(wer)[i][j])
            ax.text(j, i, f"{raw:.2f}", ha="center", va="center", fontsize=6,
                    color="white" if data[i, j] > 0.5 else "black")
    if best is not None:
        ax.add_patch(Rectangle((best[1] - 0.5, best[0] - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    fig.colorbar(im, ax=ax, label=f"WER (clipped at 1; intelligible ≤ {wer_max:g})")
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_splits(path: Path, ks: Sequence[int], similarity: Mapping[str, Sequence[float | None]],
                wer: Mapping[str, Sequence[float]], thresholds: Mapping[str, float], title: str) -> Path:
    """Two panels against the split index k: speaker similarity to each speaker, and WER against each
    speaker's text; threshold lines from ``thresholds`` (``name → WER value``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 6.0))
    top, bottom = fig.add_subplot(2, 1, 1), fig.add_subplot(2, 1, 2, sharex=None)
    colours = {0: "tab:red", 1: "tab:blue"}
    styles = {0: dict(marker="o", linestyle="-"), 1: dict(marker="s", linestyle="--", markerfacecolor="none")}
    for i, (name, values) in enumerate(similarity.items()):
        pts = [(k, v) for k, v in zip(ks, values) if v is not None]
        top.plot([k for k, _ in pts], [v for _, v in pts], color=colours.get(i), label=f"similarity to {name}",
                 **styles.get(i, {}))
    top.set_ylabel("speaker cosine similarity")
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    highest = 1.0
    for i, (name, values) in enumerate(wer.items()):
        bottom.plot(list(ks), list(values), color=colours.get(i), label=f"WER vs {name}'s text", **styles.get(i, {}))
        highest = max([highest, *values])
    bottom.set_ylim(0.0, highest + 0.08)
    for label, y in thresholds.items():
        bottom.axhline(y, linestyle="--", color="grey", linewidth=1)
        bottom.text(ks[-1], y, f" {label} {y:g}", va="bottom", ha="right", fontsize=7, color="grey")
    bottom.set_ylabel("WER")
    bottom.set_xlabel("split index k (layers [0, k) from the first speaker, [k, n) from the second)")
    bottom.legend(fontsize=8)
    bottom.grid(alpha=0.3)
    for ax in (top, bottom):
        ax.set_xticks(list(ks))
    top.set_title(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
