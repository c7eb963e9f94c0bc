"""How well labelled points separate: distances, silhouette, resampled intervals, UMAP, and the scatter plot.

* :func:`silhouette` is the mean silhouette coefficient (Rousseeuw 1987) from a precomputed distance
  matrix, vectorised so that hundreds of resamples cost milliseconds; it equals
  ``sklearn.metrics.silhouette_score(D, labels, metric="precomputed")``.
* :func:`permutation_null` is the silhouette with the labels shuffled: the chance level for these points;
* :func:`within_group_silhouette` is the silhouette inside each group (e.g. each speaker's clips alone), averaged
  over the points, and :func:`within_group_null` its chance level (labels shuffled inside each group): whether
  labels separate within a voice when the voices themselves dominate a pooled silhouette;
* :func:`resample_indices` draws stratified subsamples *without* replacement (m-out-of-n bootstrap):
  a classic bootstrap repeats points, and a repeated point is at distance 0 from its copy, which
  inflates the silhouette. The interval is the percentile interval of the statistic over subsamples.
* :func:`umap_2d` runs UMAP with ``init="random"`` (UMAP's spectral init is not reproducible on clustered
  data even with ``random_state``), one call per seed.
* :func:`scatter` draws one layer's 2-D points coloured by label (one colour and one legend entry per
  label, the layer in the title) and reports what it drew, so "same colour = same label" is checked on
  the figure itself.

numpy is imported lazily; umap and matplotlib only inside the functions that need them.
"""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from checks.plots import pyplot, save_figure

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

log = logging.getLogger(__name__)

METRICS = ("cosine", "euclidean")


def distances(x: "np.ndarray", metric: str) -> "np.ndarray":
    """Pairwise distance matrix ``[n, n]`` (float64) of the rows of ``x``: ``cosine`` (1 − cosine similarity;
    a zero row is at distance 1 from everything) or ``euclidean``."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D array of row vectors, got shape {x.shape}")
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        unit = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
        d = 1.0 - unit @ unit.T
    elif metric == "euclidean":
        sq = (x * x).sum(axis=1)
        d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0))
    else:
        raise ValueError(f"unknown metric {metric!r}; choose {', '.join(METRICS)}")
    d = np.maximum(d, 0.0)
    np.fill_diagonal(d, 0.0)
    return d


def silhouette(d: "np.ndarray", labels: "np.ndarray") -> float:
    """Mean silhouette coefficient of points with distance matrix ``d`` and integer ``labels``.

    For point i: a = mean distance to the other members of its class, b = smallest mean distance to
    another class, s = (b − a) / max(a, b); 0 for a point alone in its class. Needs at least two
    classes and fewer classes than points (else ``ValueError``). Range −1 … 1; higher = better separated."""
    import numpy as np

    labels = np.asarray(labels)
    classes, inv = np.unique(labels, return_inverse=True)
    k, n = len(classes), len(labels)
    if k < 2 or k >= n:
        raise ValueError(f"silhouette needs 2 ≤ classes < points, got {k} classes and {n} points")
    onehot = np.zeros((n, k))
    onehot[np.arange(n), inv] = 1.0
    size = onehot.sum(axis=0)
    sums = d @ onehot  # [n, k]: total distance from each point to each class
    own = size[inv]
    a = sums[np.arange(n), inv] / np.maximum(own - 1, 1)
    mean_other = sums / size
    mean_other[np.arange(n), inv] = np.inf
    b = mean_other.min(axis=1)
    denom = np.maximum(a, b)
    s = np.where((own > 1) & (denom > 0), (b - a) / np.where(denom > 0, denom, 1.0), 0.0)
    return float(s.mean())


def permutation_null(d: "np.ndarray", labels: "np.ndarray", n_permutations: int, seed: int) -> "np.ndarray":
    """The silhouette of the same points with their labels shuffled, ``n_permutations`` times (seeded): what
    chance gives for these class sizes, the level a silhouette has to beat to mean anything."""
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    return np.array([silhouette(d, rng.permutation(labels)) for _ in range(int(n_permutations))])


def _groups(labels: "np.ndarray", groups: "np.ndarray") -> list["np.ndarray"]:
    """The indices of each group in which a silhouette is defined (2 ≤ labels present < points)."""
    import numpy as np

    out = []
    for g in sorted(set(groups.tolist())):
        idx = np.flatnonzero(groups == g)
        k = len(set(labels[idx].tolist()))
        if 2 <= k < len(idx):
            out.append(idx)
    return out


def within_group_silhouette(d: "np.ndarray", labels: "np.ndarray", groups: "np.ndarray") -> float | None:
    """The silhouette by ``labels`` computed inside each group of ``groups`` alone (distances to other groups'
    points ignored), averaged over the points of the groups where it is defined (at least two labels, fewer labels
    than points); ``None`` when no group qualifies.

    >>> import numpy as np
    >>> x = np.array([[0.0], [0.1], [1.0], [1.1], [10.0], [10.1], [11.0], [11.1]])  # two voices, two labels each
    >>> labels, voices = np.array([0, 0, 1, 1, 0, 0, 1, 1]), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> round(within_group_silhouette(distances(x, "euclidean"), labels, voices), 2)
    0.9
    >>> within_group_silhouette(distances(x, "euclidean"), labels, np.arange(8)) is None  # one point per group
    True
    """
    import numpy as np

    labels, groups = np.asarray(labels), np.asarray(groups)
    parts = _groups(labels, groups)
    if not parts:
        return None
    total = sum(silhouette(d[np.ix_(idx, idx)], labels[idx]) * len(idx) for idx in parts)
    return float(total / sum(len(idx) for idx in parts))


def within_group_null(d: "np.ndarray", labels: "np.ndarray", groups: "np.ndarray", n_permutations: int,
                      seed: int) -> "np.ndarray":
    """:func:`within_group_silhouette` with the labels shuffled inside each group, ``n_permutations`` times
    (seeded): chance for these points when each group keeps its own label counts. Empty when no group qualifies."""
    import numpy as np

    labels, groups = np.asarray(labels), np.asarray(groups)
    parts = _groups(labels, groups)
    if not parts:
        return np.array([])
    rng = np.random.default_rng(seed)
    blocks = [(d[np.ix_(idx, idx)], labels[idx]) for idx in parts]
    weights = np.array([len(idx) for idx in parts], dtype=np.float64)
    out = np.empty(int(n_permutations))
    for i in range(len(out)):
        out[i] = sum(silhouette(block, rng.permutation(lab)) * w for (block, lab), w in zip(blocks, weights))
    return out / weights.sum()


def resample_indices(labels: "np.ndarray", n_resamples: int, fraction: float, seed: int) -> list["np.ndarray"]:
    """``n_resamples`` stratified subsamples without replacement: from every class, ``ceil(fraction · size)``
    (at least 2) of its points. Deterministic for a given seed."""
    import numpy as np

    if not 0 < fraction <= 1:
        raise ValueError(f"resample fraction must be in (0, 1], got {fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    out = []
    for _ in range(n_resamples):
        parts = []
        for g in groups:
            m = min(len(g), max(2, int(np.ceil(fraction * len(g)))))
            parts.append(rng.choice(g, size=m, replace=False))
        out.append(np.sort(np.concatenate(parts)))
    return out


def resampled_silhouettes(d: "np.ndarray", labels: "np.ndarray", subsets: Sequence["np.ndarray"]) -> "np.ndarray":
    """The silhouette of each subsample (indices into ``d`` / ``labels``)."""
    import numpy as np

    labels = np.asarray(labels)
    return np.array([silhouette(d[np.ix_(idx, idx)], labels[idx]) for idx in subsets])


def percentile_interval(values: "np.ndarray", level: float) -> tuple[float, float]:
    """Central ``level`` percentile interval (e.g. 0.9 → 5th and 95th percentiles)."""
    import numpy as np

    lo = (1 - level) / 2 * 100
    return float(np.percentile(values, lo)), float(np.percentile(values, 100 - lo))


@contextmanager
def _same_thread_settings():
    """numba's OpenMP threading layer shares libgomp with torch and leaves its own thread count there: after
    a UMAP fit torch would run with numba's count (all cores, spinning against each other on a busy
    machine). Run numba with torch's count when torch is loaded, and put both back afterwards."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    import numba

    torch_threads, numba_threads = torch.get_num_threads(), numba.get_num_threads()
    numba.set_num_threads(max(1, min(torch_threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(numba_threads)
        torch.set_num_threads(torch_threads)


def umap_2d(x: "np.ndarray", seed: int, n_neighbors: int, min_dist: float, metric: str) -> "np.ndarray":
    """UMAP to two dimensions with ``init="random"`` and ``random_state=seed`` (reproducible per seed).
    ``n_neighbors`` is capped at n − 1 for small inputs."""
    import warnings

    import numpy as np
    import umap

    x = np.asarray(x, dtype=np.float32)
    nn = max(2, min(int(n_neighbors), len(x) - 1))
    reducer = umap.UMAP(n_components=2, n_neighbors=nn, min_dist=float(min_dist), metric=metric, init="random",
                        random_state=int(seed), n_jobs=1)
    with warnings.catch_warnings(), _same_thread_settings():
        warnings.simplefilter("ignore")  # small-data and n_jobs/random_state notices
        return np.asarray(reducer.fit_transform(x), dtype=np.float64)


@dataclass(frozen=True)
class ScatterInfo:
    """What :func:`scatter` drew (read back from the figure, not from its inputs)."""

    path: str
    """The PNG written."""
    title: str
    legend: list[str]
    """Legend entries, in order."""
    points_per_entry: dict[str, int]
    """Points drawn under each legend entry."""
    colours: dict[str, str]
    """Hex colour of each legend entry's points."""
    one_colour_per_label: bool
    """Every legend entry is a label whose points all share one colour, no two labels share a colour, and
    the counts per entry equal the label counts: same colour ⇔ same label."""


def scatter(coords: "np.ndarray", labels: Sequence[str], order: Sequence[str], title: str,
            path: Path) -> ScatterInfo:
    """Scatter ``coords [n, 2]`` coloured by label (one ``scatter`` call per label in ``order``, tab10
    colours, one legend), ``title`` on top; saved as a PNG at ``path``."""
    import numpy as np
    from matplotlib.colors import to_hex

    plt = pyplot()

    coords = np.asarray(coords)
    labels = list(labels)
    present = [x for x in order if x in set(labels)]
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    try:
        cmap = plt.get_cmap("tab10")
        for i, name in enumerate(present):
            idx = [j for j, x in enumerate(labels) if x == name]
            ax.scatter(coords[idx, 0], coords[idx, 1], s=14, color=cmap(i % 10), label=name, alpha=0.85)
        ax.set_title(title)
        ax.set_xlabel("UMAP 1")
        ax.set_ylabel("UMAP 2")
        legend = ax.legend(title="emotion", loc="best", fontsize=8)
        drawn_legend = [t.get_text() for t in legend.get_texts()]
        points: dict[str, int] = {}
        colours: dict[str, str] = {}
        consistent = True
        for coll in ax.collections:
            name = coll.get_label()
            faces = {to_hex(c) for c in coll.get_facecolors()}
            points[name] = int(len(coll.get_offsets()))
            if len(faces) != 1:
                consistent = False
            colours[name] = sorted(faces)[0] if faces else ""
        expected = {x: labels.count(x) for x in present}
        consistent = (consistent and drawn_legend == present and points == expected
                      and len(set(colours.values())) == len(colours))
        path = save_figure(fig, path, bbox_inches="tight")
        return ScatterInfo(str(path), ax.get_title(), drawn_legend, points, colours, consistent)
    finally:
        plt.close(fig)
