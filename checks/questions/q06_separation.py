"""q06's measuring half: how well per-clip vectors separate EmoV-DB's emotions, layer by layer (no decisions).

:func:`mean_code_vectors` turns each clip's codes into one vector per layer (the mean over frames of the
codebook vectors of its codes); :func:`measure_separation` computes, for every layer and every class subset
the spec's claims name (:func:`claim_needs`), the mean silhouette by emotion in the original space and on
UMAP coordinates (several seeds) with percentile intervals over stratified subsamples and the chance level
(a permutation null: the same points with the labels shuffled), the layer gaps the
claims compare, and one scatter plot per layer. :mod:`checks.questions.q06_umap` judges these numbers.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from checks.evidence import SpecError, threshold
from checks.metrics.clusters import (
    distances,
    percentile_interval,
    permutation_null,
    resample_indices,
    resampled_silhouettes,
    scatter,
    silhouette,
    umap_2d,
    within_group_null,
    within_group_silhouette,
)
from checks.questions.emovdb import LABELS

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

ALL = "all"
"""The subset of every emotion class."""


# -- what is measured ------------------------------------------------------------------------------------------

@dataclass
class SeparationStat:
    """Silhouette by emotion of one layer's points, restricted to some classes."""

    layer: int
    subset: str
    """``all`` or the classes joined by ``+`` (in :data:`checks.questions.emovdb.LABELS` order)."""
    n_points: int
    original: float
    """Silhouette of the mean code-embedding vectors (``original_metric`` distance)."""
    original_interval: list[float]
    umap: float
    """Median over the UMAP seeds of the silhouette of the 2-D coordinates (euclidean)."""
    umap_per_seed: list[float]
    umap_interval: list[float]
    null_original: list[float] = field(default_factory=list)
    """Chance level in the original space: ``[mean, null_quantile]`` of the silhouette with labels shuffled."""
    null_umap: list[float] = field(default_factory=list)
    """The same on the UMAP coordinates (median over the seeds)."""
    within: float | None = None
    """Silhouette by emotion *within* each speaker (each speaker's clips of these classes alone, averaged over the
    clips; original space): emotion structure that a pooled silhouette hides when the voices dominate it. ``None``
    when not measured (no speakers given, or no speaker with two of the classes)."""
    within_umap: float | None = None
    """The same on the UMAP coordinates (median over the seeds)."""
    within_umap_per_seed: list[float] = field(default_factory=list)
    null_within: list[float] = field(default_factory=list)
    """Chance within speakers: ``[mean, null_quantile]`` with the labels shuffled inside each speaker."""
    null_within_umap: list[float] = field(default_factory=list)
    """The same on the UMAP coordinates (median over the seeds)."""


@dataclass
class GapStat:
    """Silhouette(better layer) − silhouette(worse layer) on the same clips."""

    better: int
    worse: int
    subset: str
    original: float
    original_interval: list[float]
    umap: float
    umap_per_seed: list[float]
    """Seed-by-seed differences (UMAP run i of one layer against run i of the other)."""
    umap_interval: list[float]


@dataclass
class PlotRecord:
    """One layer's scatter plot, as read back from the figure."""

    layer: int
    path: str
    title: str
    legend: list[str]
    points_per_label: dict[str, int]
    one_colour_per_label: bool


@dataclass
class SeparationResult:
    """Output of :func:`measure_separation` (independent of how the vectors were made)."""

    stats: list[SeparationStat]
    gaps: list[GapStat]
    plots: list[PlotRecord]
    umap_seeds: list[int]
    umap_seconds: float
    per_speaker: list[SpeakerStat] = field(default_factory=list)


@dataclass
class SpeakerStat:
    """Silhouette by emotion among one speaker's clips at one layer (all five emotions): whether the emotions
    separate within a voice, not only across voices, speaker by speaker (the claims are decided on the average over
    speakers, :attr:`SeparationStat.within`)."""

    layer: int
    speaker: str
    n_points: int
    original: float
    umap: float
    """On the first UMAP seed's coordinates (the plotted ones)."""


# -- the spec's claims --------------------------------------------------------------------------------------

def subset_name(classes: Sequence[str] | str) -> str:
    """The canonical name of a class subset: ``all``, or the classes joined by ``+`` in ``LABELS`` order;
    a :class:`SpecError` for a class EmoV-DB does not have."""
    if classes == ALL or classes is None:
        return ALL
    unknown = [c for c in classes if c not in LABELS]
    if unknown:
        raise SpecError(f"unknown emotion class(es) {', '.join(unknown)} (EmoV-DB has {', '.join(LABELS)})")
    return "+".join(x for x in LABELS if x in set(classes))


def _claim_field(spec, opt, name: str) -> Any:
    value = getattr(opt.claim, name, None)
    if value is None:
        raise SpecError(f"questions/{spec.id}.yaml option {opt.id}: claim needs '{name}'")
    return value


def claim_needs(spec) -> tuple[set[str], list[tuple[int, int, str]]]:
    """The class subsets (always including ``all``) and the (better, worse, subset) gaps the claims use."""
    subsets, gaps = {ALL}, []
    for opt in spec.options:
        c = opt.claim
        if c is None or c.decided_by != "measurement":
            continue
        test = _claim_field(spec, opt, "test")
        if test == "separated":
            subsets.add(subset_name(_claim_field(spec, opt, "classes")))
        elif test == "layer_gap":
            sub = subset_name(getattr(c, "classes", ALL))
            subsets.add(sub)
            gaps.append((int(_claim_field(spec, opt, "better")), int(_claim_field(spec, opt, "worse")), sub))
        else:
            raise SpecError(f"questions/{spec.id}.yaml option {opt.id}: unknown claim test {test!r} "
                            "(separated or layer_gap)")
    return subsets, gaps


# -- model part ---------------------------------------------------------------------------------------------

def mean_code_vectors(codec, codes: Sequence["np.ndarray"], layers: Sequence[int]) -> dict[int, "np.ndarray"]:
    """``{layer: [clips, dim]}``: per clip, the mean over its frames of the codebook vector of each frame's
    code at ``layer`` (``codes[i]`` is ``[K, T_i]``)."""
    import numpy as np

    out = {}
    for layer in layers:
        table = codec.codebook_vectors(layer).numpy()
        out[layer] = np.stack([table[np.asarray(c[layer])].mean(axis=0) for c in codes]).astype(np.float64)
    return out


# -- numbers part (no model) ------------------------------------------------------------------------------

def _null(values: "np.ndarray", quantile: float) -> list[float]:
    import numpy as np

    return [float(np.mean(values)), float(np.quantile(values, quantile))]


def _within(st: SeparationStat, d: "np.ndarray", d_umap: list["np.ndarray"], labels: "np.ndarray",
            speakers: "np.ndarray", n_perm: int, seed: int, q_null: float) -> None:
    """Fill ``st``'s within-speaker silhouettes and their chance level, in the original space (``d``) and on each
    UMAP seed's coordinates (``d_umap``; median over the seeds)."""
    import numpy as np

    st.within = within_group_silhouette(d, labels, speakers)
    if st.within is None:
        return
    st.null_within = _null(within_group_null(d, labels, speakers, n_perm, seed), q_null)
    st.within_umap_per_seed = [float(within_group_silhouette(du, labels, speakers)) for du in d_umap]
    st.within_umap = float(np.median(st.within_umap_per_seed))
    st.null_within_umap = _null(np.median(np.stack([within_group_null(du, labels, speakers, n_perm, seed)
                                                    for du in d_umap]), axis=0), q_null)


def measure_separation(vectors: dict[int, "np.ndarray"], labels: Sequence[str], spec, seed: int,
                       plot_dir: Path | None, n_seeds: int | None = None,
                       speakers: Sequence[str] | None = None) -> SeparationResult:
    """Silhouettes (both spaces, intervals, chance), gaps and one scatter plot per layer, from per-clip vectors; with
    each clip's ``speakers``, the silhouette by emotion within the speakers too (per class subset, against chance
    with the labels shuffled inside each speaker; and per speaker for all five emotions)."""
    import numpy as np

    labels = list(labels)
    lab = np.array(labels)
    spk_all = None if speakers is None else np.array(list(speakers))
    n_seeds = int(threshold(spec, "umap_seeds")) if n_seeds is None else int(n_seeds)
    if n_seeds < 1:
        raise SpecError(f"questions/{spec.id}.yaml: thresholds.umap_seeds must be at least 1")
    seeds = [seed + i for i in range(n_seeds)]
    n_boot = int(threshold(spec, "bootstrap"))
    frac = float(threshold(spec, "bootstrap_fraction"))
    level = float(threshold(spec, "interval_level"))
    metric = str(threshold(spec, "original_metric"))
    n_perm = int(threshold(spec, "null_permutations"))
    q_null = float(threshold(spec, "null_quantile"))
    subsets, gap_specs = claim_needs(spec)
    order = [x for x in LABELS if x in set(labels)]
    sub_idx: dict[str, np.ndarray] = {}
    for sub in sorted(subsets):
        classes = order if sub == ALL else sub.split("+")
        idx = np.flatnonzero(np.isin(lab, classes))
        if len(set(lab[idx])) < 2:
            continue
        sub_idx[sub] = idx
    boots = {sub: resample_indices(lab[idx], n_boot, frac, seed) for sub, idx in sub_idx.items()}

    t0 = time.perf_counter()
    coords: dict[int, list[np.ndarray]] = {}
    for layer, x in sorted(vectors.items()):
        coords[layer] = [umap_2d(x, s, int(threshold(spec, "umap_n_neighbors")),
                                 float(threshold(spec, "umap_min_dist")), str(threshold(spec, "umap_metric")))
                         for s in seeds]
    umap_seconds = time.perf_counter() - t0

    stats: list[SeparationStat] = []
    res_orig: dict[tuple[int, str], np.ndarray] = {}
    res_umap: dict[tuple[int, str], np.ndarray] = {}
    for layer, x in sorted(vectors.items()):
        for sub, idx in sub_idx.items():
            d = distances(x[idx], metric)
            sl = lab[idx]
            orig = silhouette(d, sl)
            ro = resampled_silhouettes(d, sl, boots[sub])
            null_o = permutation_null(d, sl, n_perm, seed)
            per_seed, rs, null_u = [], [], []
            for c in coords[layer]:
                du = distances(c[idx], "euclidean")
                per_seed.append(silhouette(du, sl))
                rs.append(resampled_silhouettes(du, sl, boots[sub]))
                null_u.append(permutation_null(du, sl, n_perm, seed))
            ru = np.median(np.stack(rs), axis=0)
            res_orig[(layer, sub)], res_umap[(layer, sub)] = ro, ru
            st = SeparationStat(layer, sub, len(idx), orig, list(percentile_interval(ro, level)),
                                float(np.median(per_seed)), per_seed, list(percentile_interval(ru, level)),
                                _null(null_o, q_null), _null(np.median(np.stack(null_u), axis=0), q_null))
            if spk_all is not None:
                _within(st, d, [distances(c[idx], "euclidean") for c in coords[layer]], sl, spk_all[idx], n_perm,
                        seed, q_null)
            stats.append(st)
    by_key = {(s.layer, s.subset): s for s in stats}
    gaps: list[GapStat] = []
    for better, worse, sub in gap_specs:
        if (better, sub) not in by_key or (worse, sub) not in by_key:
            continue
        b, w = by_key[(better, sub)], by_key[(worse, sub)]
        go = res_orig[(better, sub)] - res_orig[(worse, sub)]
        gu = res_umap[(better, sub)] - res_umap[(worse, sub)]
        gaps.append(GapStat(better, worse, sub, b.original - w.original, list(percentile_interval(go, level)),
                            b.umap - w.umap, [p - q for p, q in zip(b.umap_per_seed, w.umap_per_seed)],
                            list(percentile_interval(gu, level))))

    plots: list[PlotRecord] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(plot_dir) if plot_dir is not None else Path(tmp)
        for layer in sorted(vectors):
            s = by_key.get((layer, ALL))
            sil = f", silhouette {s.umap:.2f} (UMAP) / {s.original:.2f} ({metric})" if s else ""
            title = f"Layer {layer}: Mimi code embeddings by emotion\nUMAP seed {seeds[0]}{sil}"
            info = scatter(coords[layer][0], labels, LABELS, title, folder / f"umap_layer{layer:02d}.png")
            plots.append(PlotRecord(layer, info.path if plot_dir is not None else "(not kept: no --evidence-dir)",
                                    info.title, info.legend, info.points_per_entry, info.one_colour_per_label))
    per_speaker: list[SpeakerStat] = []
    if speakers is not None:
        spk = np.array(list(speakers))
        for layer, x in sorted(vectors.items()):
            for who in sorted(set(spk)):
                idx = np.flatnonzero(spk == who)
                sl = lab[idx]
                if len(set(sl)) < 2 or len(set(sl)) >= len(idx):
                    continue  # a silhouette needs two emotions and more clips than emotions
                per_speaker.append(SpeakerStat(layer, str(who), len(idx), silhouette(distances(x[idx], metric), sl),
                                               silhouette(distances(coords[layer][0][idx], "euclidean"), sl)))
    return SeparationResult(stats, gaps, plots, seeds, umap_seconds, per_speaker)
