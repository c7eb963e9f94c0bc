"""q06 — do Mimi's code embeddings separate EmoV-DB's emotions, layer by layer?

The Colab's procedure (DESIGN 6): for every clip of a balanced EmoV-DB subset (:mod:`checks.emovdb`) and
every layer L of ``thresholds.layers``, look up the codebook vector of each frame's code at L and average
over the frames → one vector per clip and layer; UMAP them to 2-D per layer, coloured by emotion.

What decides the claims is the *mean silhouette by emotion label* (:mod:`checks.clusters`): on the UMAP
coordinates (``thresholds.decide_on: umap``, the median over ``umap_seeds`` UMAP runs with
``init="random"``; what the plots show) or on the vectors themselves (``original``, cosine distance);
both are always reported. For every layer it is computed for all five emotions and for each class
subset an option names, with a percentile interval over stratified subsamples (``bootstrap``).

* ``separated`` claims (E–H): silhouette(layer, classes) ≥ ``subset_separated_min``;
* ``layer_gap`` claims (C, D): silhouette(better) − silhouette(worse) ≥ ``layer_gap_min``, with a paired
  interval (the same subsamples for both layers);
* both outside ``± undecided_band`` of the threshold, else undecided. A decided claim is marked
  **fragile** when UMAP seeds land on both sides of the threshold or the interval straddles it.
* The fact claims are true with their cited source; the "same colour = same label" claim is verified on
  the figures drawn (one colour per label, counts per colour = counts per label).

Gates (the claim stays undecided, the question pending, with the reason): a layer the model does not
have (the tiny fixture has 4), and a codec that reconstructs nothing (best wideband PESQ of a full
decode of ``codec_check_clips`` clips below ``codec_works_pesq_min``): with untrained or fixture weights
the layer statistics say nothing about kyutai/mimi.
"""
from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .audio import is_silent, load_audio
from .batch_encode import encode_batched
from .batching import items_per_call
from .claims import at_least, decide_multi
from .clusters import (distances, percentile_interval, resample_indices, resampled_silhouettes, scatter,
                       silhouette, umap_2d)
from .emovdb import LABELS, balanced_subset, counts, resolve_folder, scan
from .evidence import Decision, Evidence, OptionVerdict, SpecError, threshold
from .quality import pesq_wb

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

log = logging.getLogger(__name__)

OPTIONAL_ASSETS: frozenset[str] = frozenset({"emovdb/"})
"""q06 finds EmoV-DB itself (``--emovdb DIR`` or ``<assets>/emovdb``) and says what is missing."""

ALL = "all"


# -- measurements ------------------------------------------------------------------------------------------

@dataclass
class SeparationStat:
    """Silhouette by emotion of one layer's points, restricted to some classes."""

    layer: int
    subset: str
    """``all`` or the classes joined by ``+`` (in :data:`checks.emovdb.LABELS` order)."""
    n_points: int
    original: float
    """Silhouette of the mean code-embedding vectors (``original_metric`` distance)."""
    original_interval: list[float]
    umap: float
    """Median over the UMAP seeds of the silhouette of the 2-D coordinates (euclidean)."""
    umap_per_seed: list[float]
    umap_interval: list[float]


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
class CodecCheck:
    """Full reconstruction of one clip (the gate)."""

    clip: str
    pesq: float | None
    error: str | None = None


@dataclass
class SeparationResult:
    """Output of :func:`measure_separation` (independent of how the vectors were made)."""

    stats: list[SeparationStat]
    gaps: list[GapStat]
    plots: list[PlotRecord]
    umap_seeds: list[int]
    umap_seconds: float


@dataclass
class UmapMeasured:
    folder: str
    """The EmoV-DB folder read."""
    per_class: int
    clips: int
    clip_counts: dict[str, dict[str, int]]
    """Clips used, ``{label: {speaker: n}}``."""
    model_layers: int
    """Code layers the loaded Mimi has."""
    layers: list[int]
    """Layers measured (asked and present)."""
    layers_missing: list[int]
    """Layers the spec asks for that this model does not have."""
    decide_on: str
    umap_seeds: list[int]
    stats: list[SeparationStat] = field(default_factory=list)
    gaps: list[GapStat] = field(default_factory=list)
    plots: list[PlotRecord] = field(default_factory=list)
    codec_check: list[CodecCheck] = field(default_factory=list)
    codec_best_pesq: float | None = None
    silent_clips: list[str] = field(default_factory=list)
    encode_seconds: float = 0.0
    umap_seconds: float = 0.0


# -- the spec's claims --------------------------------------------------------------------------------------

def subset_name(classes: Sequence[str] | str) -> str:
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

def measure_separation(vectors: dict[int, "np.ndarray"], labels: Sequence[str], spec, seed: int,
                       plot_dir: Path | None, n_seeds: int | None = None) -> SeparationResult:
    """Silhouettes (both spaces, intervals), gaps and one scatter plot per layer, from per-clip vectors."""
    import numpy as np

    labels = list(labels)
    lab = np.array(labels)
    n_seeds = int(threshold(spec, "umap_seeds")) if n_seeds is None else int(n_seeds)
    if n_seeds < 1:
        raise SpecError(f"questions/{spec.id}.yaml: thresholds.umap_seeds must be at least 1")
    seeds = [seed + i for i in range(n_seeds)]
    n_boot = int(threshold(spec, "bootstrap"))
    frac = float(threshold(spec, "bootstrap_fraction"))
    level = float(threshold(spec, "interval_level"))
    metric = str(threshold(spec, "original_metric"))
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
            per_seed, rs = [], []
            for c in coords[layer]:
                du = distances(c[idx], "euclidean")
                per_seed.append(silhouette(du, sl))
                rs.append(resampled_silhouettes(du, sl, boots[sub]))
            ru = np.median(np.stack(rs), axis=0)
            res_orig[(layer, sub)], res_umap[(layer, sub)] = ro, ru
            stats.append(SeparationStat(layer, sub, len(idx), orig, list(percentile_interval(ro, level)),
                                        float(np.median(per_seed)), per_seed, list(percentile_interval(ru, level))))
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
    return SeparationResult(stats, gaps, plots, seeds, umap_seconds)


# -- judging ------------------------------------------------------------------------------------------------

def gate_reason(m: UmapMeasured, spec) -> str | None:
    """Why no measurement claim can be decided with this model, or ``None``."""
    works = float(threshold(spec, "codec_works_pesq_min"))
    if m.codec_best_pesq is None:
        errors = "; ".join(f"{c.clip}: {c.error}" for c in m.codec_check) or "no clip checked"
        return (f"the codec reconstructs none of the check clips ({errors}): untrained or fixture weights, the "
                "layer statistics would say nothing about kyutai/mimi")
    if m.codec_best_pesq < works:
        return (f"the codec does not reconstruct speech (best PESQ of {len(m.codec_check)} decoded clips "
                f"{m.codec_best_pesq:.2f} < codec_works_pesq_min {works:g}): untrained or fixture weights, the "
                "layer statistics would say nothing about kyutai/mimi")
    return None


def _space_values(stat, space: str) -> tuple[float, list[float], list[float]]:
    if space == "umap":
        return stat.umap, list(stat.umap_per_seed), list(stat.umap_interval)
    return stat.original, [], list(stat.original_interval)


def _fragility(value_t: float, per_seed: list[float], interval: list[float]) -> list[str]:
    """Reasons a verdict against threshold ``value_t`` is fragile (seeds or interval on both sides)."""
    reasons = []
    if per_seed:
        above = sum(1 for v in per_seed if v >= value_t)
        if 0 < above < len(per_seed):
            reasons.append(f"UMAP seeds disagree ({above}/{len(per_seed)} at or above {value_t:g})")
    if interval and interval[0] < value_t < interval[1]:
        reasons.append(f"interval [{interval[0]:.3f}, {interval[1]:.3f}] straddles {value_t:g}")
    return reasons


def _measured_verdict(value: float, t: float, band: float, per_seed: list[float], interval: list[float],
                      what: str) -> OptionVerdict:
    verdict, margin = at_least(value, t, band)
    rel = {"true": "≥", "false": "<", "undecided": "within the undecided band of"}[verdict]
    why = f"{what} = {value:.3f} {rel} {t:g}" + (f" (± {band:g})" if verdict == "undecided" else "")
    if interval:
        why += f"; interval [{interval[0]:.3f}, {interval[1]:.3f}]"
    if per_seed:
        why += f"; per seed {', '.join(f'{v:.3f}' for v in per_seed)}"
    fragile = _fragility(t, per_seed, interval) if verdict != "undecided" else []
    if fragile:
        why += "; FRAGILE: " + "; ".join(fragile)
    return OptionVerdict(verdict, why, margin if verdict != "undecided" else None)


def fragile_options(verdicts: dict[str, OptionVerdict]) -> list[str]:
    return sorted(k for k, v in verdicts.items() if "FRAGILE" in v.why)


def judge(m: UmapMeasured, spec) -> dict[str, OptionVerdict]:
    space = str(threshold(spec, "decide_on"))
    if space not in ("umap", "original"):
        raise SpecError(f"questions/{spec.id}.yaml: thresholds.decide_on must be umap or original, got {space!r}")
    band = float(threshold(spec, "undecided_band"))
    sep_min = float(threshold(spec, "subset_separated_min"))
    gap_min = float(threshold(spec, "layer_gap_min"))
    gate = gate_reason(m, spec)
    stats = {(s.layer, s.subset): s for s in m.stats}
    gaps = {(g.better, g.worse, g.subset): g for g in m.gaps}
    out: dict[str, OptionVerdict] = {}
    for opt in spec.options:
        c = opt.claim
        if c is None:
            raise SpecError(f"questions/{spec.id}.yaml option {opt.id}: a multi-answer option needs a claim")
        if c.decided_by == "fact":
            if getattr(c, "verified_by", None) == "plot_colours":
                if m.plots and all(p.one_colour_per_label for p in m.plots):
                    out[opt.id] = OptionVerdict("true", f"fact: {c.rule} Verified on the {len(m.plots)} figures "
                                                        f"drawn (legend {', '.join(m.plots[0].legend)}). "
                                                        f"Source: {c.source}")
                else:
                    out[opt.id] = OptionVerdict("undecided", "the figures do not colour one label per colour "
                                                             "(or none was drawn)")
            else:
                out[opt.id] = OptionVerdict("true", f"fact: {c.rule} Source: {c.source}")
            continue
        test = getattr(c, "test", None)
        needed = ([int(c.layer)] if test == "separated" else [int(c.better), int(c.worse)])
        missing = [x for x in needed if x in m.layers_missing or x >= m.model_layers]
        if missing:
            out[opt.id] = OptionVerdict("undecided", f"layer {', '.join(map(str, missing))} not in this model "
                                                     f"({m.model_layers} code layers)")
            continue
        if gate:
            out[opt.id] = OptionVerdict("undecided", gate)
            continue
        if test == "separated":
            sub = subset_name(c.classes)
            s = stats.get((int(c.layer), sub))
            if s is None:
                out[opt.id] = OptionVerdict("undecided", f"no silhouette for layer {c.layer}, {sub}")
                continue
            value, per_seed, interval = _space_values(s, space)
            out[opt.id] = _measured_verdict(value, sep_min, band, per_seed, interval,
                                            f"silhouette({space}, layer {c.layer}, {sub})")
        else:
            sub = subset_name(getattr(c, "classes", ALL))
            g = gaps.get((int(c.better), int(c.worse), sub))
            if g is None:
                out[opt.id] = OptionVerdict("undecided", f"no gap for layers {c.better} − {c.worse}, {sub}")
                continue
            value, per_seed, interval = _space_values(g, space)
            out[opt.id] = _measured_verdict(value, gap_min, band, per_seed, interval,
                                            f"silhouette({space}, layer {c.better}) − silhouette(layer {c.worse}), "
                                            f"{sub}")
    return out


def decide(evidence: Evidence, spec) -> Decision:
    m = evidence.measured
    verdicts = judge(m, spec)
    gate = gate_reason(m, spec)
    if m.layers_missing:
        return Decision("pending", (), f"this Mimi has {m.model_layers} code layers; the question needs layers "
                                       f"{', '.join(map(str, m.layers_missing))}" + (f"; and {gate}" if gate else ""),
                        None, verdicts)
    if gate:
        return Decision("pending", (), gate, None, verdicts)
    return decide_multi(verdicts, spec.letters)


# -- compute ------------------------------------------------------------------------------------------------

def summary_line(m: UmapMeasured) -> str:
    alls = sorted((s for s in m.stats if s.subset == ALL), key=lambda s: s.layer)
    parts = [f"L{s.layer} {s.umap:.2f}/{s.original:.2f}" for s in alls]
    gate = f"; codec check best PESQ {m.codec_best_pesq:.2f}" if m.codec_best_pesq is not None else \
        "; codec check: no PESQ"
    missing = f"; layers {', '.join(map(str, m.layers_missing))} missing (model has {m.model_layers})" \
        if m.layers_missing else ""
    return (f"{m.clips} EmoV-DB clips ({m.per_class}/emotion); silhouette all five emotions (UMAP median/"
            f"original): {', '.join(parts)}{gate}{missing}")


def compute(ctx, spec) -> Evidence:
    folder = resolve_folder(getattr(ctx, "emovdb", None), ctx.assets)
    per_class = getattr(ctx, "emovdb_per_class", None) or int(threshold(spec, "per_class"))
    speakers = spec.thresholds.get("speakers")
    clips = balanced_subset(scan(folder), per_class, LABELS, speakers=speakers, seed=ctx.seed, folder=folder)
    codec = ctx.mimi()
    asked = [int(x) for x in threshold(spec, "layers")]
    layers = [x for x in asked if 0 <= x < codec.num_quantizers]
    missing = [x for x in asked if x not in layers]
    audio = [load_audio(c.path, rate=codec.sampling_rate).samples for c in clips]
    silence = float(threshold(spec, "silence_dbfs"))
    silent = [c.name for c, x in zip(clips, audio) if is_silent(x, silence)]

    n_q = codec.num_quantizers
    t0 = time.perf_counter()
    # batching pays on a GPU; on a CPU one clip per call is faster (checks/batching.py); same codes either way
    batch = items_per_call(codec, len(audio), accelerator_batch=int(threshold(spec, "encode_batch_size")))
    codes = encode_batched(codec, audio, n_q, batch)
    encode_seconds = time.perf_counter() - t0
    vectors = mean_code_vectors(codec, codes, layers)
    labels = [c.label for c in clips]

    # the gate: full decodes of the first clip of each emotion (up to codec_check_clips)
    checks: list[CodecCheck] = []
    first: dict[str, int] = {}
    for i, c in enumerate(clips):
        first.setdefault(c.label, i)
    for i in list(first.values())[: int(threshold(spec, "codec_check_clips"))]:
        n = len(audio[i])
        decoded = codec.decode(codes[i][None])[0][:n]
        r = pesq_wb(audio[i], decoded, codec.sampling_rate)
        checks.append(CodecCheck(clips[i].name, r.value, r.error))
    scored = [c.pesq for c in checks if c.pesq is not None]

    result = measure_separation(vectors, labels, spec, ctx.seed, ctx.artifact_dir(spec.id),
                                n_seeds=getattr(ctx, "repeats", None))
    m = UmapMeasured(folder=str(folder), per_class=per_class, clips=len(clips), clip_counts=counts(clips),
                     model_layers=n_q, layers=layers, layers_missing=missing, decide_on=str(threshold(spec, "decide_on")),
                     umap_seeds=result.umap_seeds, stats=result.stats, gaps=result.gaps, plots=result.plots,
                     codec_check=checks, codec_best_pesq=max(scored) if scored else None, silent_clips=silent,
                     encode_seconds=encode_seconds, umap_seconds=result.umap_seconds)
    verdicts = judge(m, spec)
    notes = []
    if missing:
        notes.append(f"this Mimi has {n_q} code layers: layers {', '.join(map(str, missing))} cannot be measured "
                     "(the real kyutai/mimi has 32)")
    gate = gate_reason(m, spec)
    if gate:
        notes.append(gate)
    if silent:
        notes.append(f"{len(silent)} clip(s) are silent (below {silence:g} dBFS): {', '.join(silent[:5])}")
    fragile = fragile_options(verdicts)
    if fragile:
        notes.append(f"fragile claim(s) {', '.join(fragile)}: UMAP seeds or the resampling interval fall on both "
                     "sides of the threshold; read the per-seed values before trusting them")
    art = ctx.artifact_dir(spec.id)
    return Evidence(spec.id, m, verdicts, summary_line(m), artifacts=str(art) if art else None, notes=notes)
