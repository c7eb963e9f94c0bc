"""q06 — do Mimi's code embeddings separate EmoV-DB's emotions, layer by layer?

The Colab's procedure (DESIGN 6): for every clip of a balanced EmoV-DB subset (:mod:`checks.questions.emovdb`) and
every layer L of ``thresholds.layers``, look up the codebook vector of each frame's code at L and average
over the frames → one vector per clip and layer; UMAP them to 2-D per layer, coloured by emotion.

What decides the claims is the *mean silhouette by emotion label* (measured by
:mod:`checks.questions.q06_separation` with :mod:`checks.metrics.clusters`): on the UMAP
coordinates (``thresholds.decide_on: umap``, the median over ``umap_seeds`` UMAP runs with
``init="random"``; what the plots show) or on the vectors themselves (``original``, cosine distance);
both are always reported. For every layer it is computed for all five emotions and for each class
subset an option names, with a percentile interval over stratified subsamples (``bootstrap``).

* ``separated`` claims (E–H) are judged by two measures, because speaker identity can dominate a silhouette
  pooled over speakers while the emotions separate clearly inside each voice: the pooled silhouette(layer,
  classes) and the silhouette *within speakers* (each speaker's clips alone, averaged over the clips), each held
  against its own chance level (the ``null_quantile`` of the same silhouette with the labels shuffled
  ``null_permutations`` times; inside each speaker for the within measure). **True** needs both above their
  anchored lines (``subset_separated_min``, ``within_speaker_separated_min``: Kaufman & Rousseeuw's boundary of a
  weak structure) and above chance; **false** needs both below their lines *and* at chance (no structure beyond
  the permutation null in either); anything between goes to a TA's review, leaning the way both measures lean;
* ``layer_gap`` claims (C, D): silhouette(better) − silhouette(worse) ≥ ``layer_gap_min``, with a paired
  interval (the same subsamples for both layers);
* both outside ``± undecided_band`` of the threshold, else undecided. A claim is **FRAGILE**, and not
  decided, when UMAP seeds land on both sides of the threshold or the interval straddles it;
* the sample has the same speakers in every emotion (a speaker lacking one is left out, said in the notes), and
  the silhouette by emotion within each speaker is also reported speaker by speaker per layer (``per_speaker``);
* C and D (higher vs lower layer separates better) are complements (``claim.complement``), decided together:
  both false (a gap inside the threshold either way) leaves both undecided
  (:func:`checks.questions.claims.complementary`).
* The fact claims are true with their cited source; the "same colour = same label" claim is verified on
  the figures drawn (one colour per label, counts per colour = counts per label).

Gates (the claim stays undecided, the question pending, with the reason): a layer the model does not
have (the tiny fixture has 4), and a codec that reconstructs nothing (best wideband PESQ of a full
decode of ``codec_check_clips`` clips below ``codec_works_pesq_min``): with untrained or fixture weights
the layer statistics say nothing about kyutai/mimi.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from checks.audio import is_silent, load_audio
from checks.evidence import Decision, Evidence, OptionVerdict, SpecError, threshold
from checks.metrics.quality import pesq_wb
from checks.models.batch_encode import encode_batched
from checks.models.batching import items_per_call
from checks.questions.claims import at_least, complement_pairs, complementary, decide_multi
from checks.questions.emovdb import LABELS, balanced_subset, complete_speakers, counts, resolve_folder, scan
from checks.questions.q06_separation import (
    ALL,
    GapStat,
    PlotRecord,
    SeparationStat,
    SpeakerStat,
    mean_code_vectors,
    measure_separation,
    subset_name,
)

if TYPE_CHECKING:  # pragma: no cover
    pass

log = logging.getLogger(__name__)

OPTIONAL_ASSETS: frozenset[str] = frozenset({"emovdb/"})
"""q06 finds EmoV-DB itself (``--emovdb DIR`` or ``<assets>/emovdb``) and says what is missing."""

@dataclass
class CodecCheck:
    """Full reconstruction of one clip (the gate)."""

    clip: str
    pesq: float | None
    error: str | None = None


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
    speakers_left_out: dict[str, list[str]] = field(default_factory=dict)
    """Speakers not sampled because they lack some emotion (each with the emotions it lacks)."""
    per_speaker: list[SpeakerStat] = field(default_factory=list)
    """The silhouette by emotion within each speaker, per layer, all five emotions (speaker by speaker; the claims
    use the average over speakers of each class subset, :attr:`SeparationStat.within`)."""
    silent_clips: list[str] = field(default_factory=list)
    encode_seconds: float = 0.0
    umap_seconds: float = 0.0


# -- judging ------------------------------------------------------------------------------------------------

def gate(m: UmapMeasured, spec) -> str | None:
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


def _above_chance(verdict: OptionVerdict, value: float, null: list[float],
                  chance: str = "chance (labels shuffled)") -> OptionVerdict:
    """A ``separated`` verdict on ``value`` held against ``chance``, the permutation ``null`` (``[mean, upper
    quantile]``): true stands only above its quantile (the null is reported in every case); without a null measured
    (older evidence) it is left as it was."""
    if len(null) != 2:
        return verdict
    said = f"{chance}: mean {null[0]:.3f}, upper quantile {null[1]:.3f}"
    if verdict.verdict == "true" and value <= null[1]:
        return OptionVerdict("undecided", f"{verdict.why}; but not above {said}: shuffled labels separate as well",
                             lean="false")
    return OptionVerdict(verdict.verdict, f"{verdict.why}; {said}", verdict.margin, verdict.lean)


def _separated(stat, space: str, sep_min: float, within_min: float, band: float, what: str) -> OptionVerdict:
    """A ``separated`` claim from its two measures (module docstring): the pooled silhouette and the silhouette
    within speakers, each against its line and its chance level. True needs both clearly above; false needs both
    below and at chance; otherwise undecided, leaning the way both lean (no lean when they pull apart)."""
    value, per_seed, interval = _space_values(stat, space)
    null = stat.null_umap if space == "umap" else stat.null_original
    pooled = _above_chance(_measured_verdict(value, sep_min, band, per_seed, interval, what), value, null)
    w = stat.within_umap if space == "umap" else stat.within
    if w is None:
        within = OptionVerdict("undecided", "within speakers: not measured (no speaker with two of these classes)")
        w_null: list[float] = []
    else:
        w_null = stat.null_within_umap if space == "umap" else stat.null_within
        within = _above_chance(_measured_verdict(w, within_min, band, stat.within_umap_per_seed if space == "umap"
                                                 else [], [], f"within speakers {w:.3f}"),
                               w, w_null, "chance within speakers (labels shuffled in each)")
    why = f"pooled: {pooled.why} — {within.why}"
    if pooled.verdict == within.verdict == "true":
        return OptionVerdict("true", why + " (both measures above their lines and chance)",
                             min(pooled.margin, within.margin))
    at_chance = (len(null) == 2 and value <= null[1], w is not None and len(w_null) == 2 and w <= w_null[1])
    if pooled.verdict == within.verdict == "false" and all(at_chance):
        return OptionVerdict("false", why + " (both below their lines and no structure beyond chance)",
                             min(null[1] - value, w_null[1] - w))
    leans = {v.verdict if v.verdict != "undecided" else v.lean for v in (pooled, within)}
    if pooled.verdict == within.verdict == "false":
        reason = ("both below their lines, but " + " and ".join(
            name for name, at in zip(("the pooled measure", "the within-speaker measure"), at_chance) if not at)
            + " beats chance: weak structure that the plot may show, so not decided")
    elif "true" in leans and "false" in leans:
        reason = "the measures disagree (speaker identity can dominate a pooled silhouette), so not decided"
    else:
        reason = "not decided: true needs both measures above their lines, false both at chance"
    return OptionVerdict("undecided", f"{why}; {reason}", lean=next(iter(leans)) if len(leans) == 1 else None)


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
    if fragile:  # seeds or interval on both sides of the threshold: not decided (a person looks at the plots)
        return OptionVerdict("undecided", f"{why}; FRAGILE, so not decided ({verdict} by the median): "
                                          + "; ".join(fragile), lean=verdict)
    if verdict == "undecided":
        return OptionVerdict("undecided", why, lean="true" if value >= t else "false")
    return OptionVerdict(verdict, why, margin)


def fragile_options(verdicts: dict[str, OptionVerdict]) -> list[str]:
    """The letters whose verdict was marked FRAGILE (seeds or interval on both sides of the threshold)."""
    return sorted(k for k, v in verdicts.items() if "FRAGILE" in v.why)


def judge(m: UmapMeasured, spec) -> dict[str, OptionVerdict]:
    """Per claim: facts true with their source (the colour claim checked on the figures); ``separated`` claims by
    the pooled and the within-speaker silhouette (``decide_on`` space) against ``subset_separated_min``,
    ``within_speaker_separated_min`` and chance (:func:`_separated`); ``layer_gap`` claims iff the gap ≥
    ``layer_gap_min``; all outside ``± undecided_band``; undecided for a missing layer or when the codec gate fails."""
    space = str(threshold(spec, "decide_on"))
    if space not in ("umap", "original"):
        raise SpecError(f"questions/{spec.id}.yaml: thresholds.decide_on must be umap or original, got {space!r}")
    band = float(threshold(spec, "undecided_band"))
    sep_min = float(threshold(spec, "subset_separated_min"))
    within_min = float(threshold(spec, "within_speaker_separated_min"))
    gap_min = float(threshold(spec, "layer_gap_min"))
    blocked = gate(m, spec)
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
        if blocked:
            out[opt.id] = OptionVerdict("undecided", blocked)
            continue
        if test == "separated":
            sub = subset_name(c.classes)
            s = stats.get((int(c.layer), sub))
            if s is None:
                out[opt.id] = OptionVerdict("undecided", f"no silhouette for layer {c.layer}, {sub}")
                continue
            out[opt.id] = _separated(s, space, sep_min, within_min, band, f"silhouette({space}, layer {c.layer}, "
                                                                          f"{sub})")
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
    return complementary(out, complement_pairs(spec))


def decide(evidence: Evidence, spec) -> Decision:
    """Multi-answer: the true claims (:func:`decide_multi`); pending when a layer is missing or the codec gate fails."""
    m = evidence.measured
    verdicts = judge(m, spec)
    blocked = gate(m, spec)
    if m.layers_missing:
        return Decision("pending", (), f"this Mimi has {m.model_layers} code layers; the question needs layers "
                                       f"{', '.join(map(str, m.layers_missing))}"
                                       + (f"; and {blocked}" if blocked else ""),
                        None, verdicts)
    if blocked:
        return Decision("pending", (), blocked, None, verdicts)
    return decide_multi(verdicts, spec.letters)


# -- compute ------------------------------------------------------------------------------------------------

def summary(m: UmapMeasured) -> str:
    """The evidence line: clips used, each layer's all-emotion silhouette (UMAP median/original), the codec check's
    best PESQ and any missing layers."""
    alls = sorted((s for s in m.stats if s.subset == ALL), key=lambda s: s.layer)
    parts = [f"L{s.layer} {s.umap:.2f}/{s.original:.2f}" for s in alls]
    codec = f"; codec check best PESQ {m.codec_best_pesq:.2f}" if m.codec_best_pesq is not None else \
        "; codec check: no PESQ"
    missing = f"; layers {', '.join(map(str, m.layers_missing))} missing (model has {m.model_layers})" \
        if m.layers_missing else ""
    return (f"{m.clips} EmoV-DB clips ({m.per_class}/emotion); silhouette all five emotions (UMAP median/"
            f"original): {', '.join(parts)}{codec}{missing}")


def compute(ctx, spec) -> Evidence:
    """Encodes a balanced EmoV-DB subset, averages each clip's code vectors per layer of ``thresholds.layers`` and
    measures the silhouette by emotion (UMAP and original space, with intervals), layer gaps, plots and the codec
    gate."""
    folder = resolve_folder(getattr(ctx, "emovdb", None), ctx.assets)
    per_class = getattr(ctx, "emovdb_per_class", None) or int(threshold(spec, "per_class"))
    speakers = spec.thresholds.get("speakers")
    found = scan(folder)
    left_out: dict[str, list[str]] = {}
    if speakers is None:  # a fair design: the same speakers in every emotion (else the speaker confounds it)
        speakers, left_out = complete_speakers(found, LABELS)
        speakers = speakers or None  # no speaker has every emotion: balanced_subset says what is missing
    clips = balanced_subset(found, per_class, LABELS, speakers=speakers, seed=ctx.seed, folder=folder)
    codec = ctx.mimi()
    asked = [int(x) for x in threshold(spec, "layers")]
    layers = [x for x in asked if 0 <= x < codec.num_quantizers]
    missing = [x for x in asked if x not in layers]
    audio = [load_audio(c.path, rate=codec.sampling_rate).samples for c in clips]
    silence = float(threshold(spec, "silence_dbfs"))
    silent = [c.name for c, x in zip(clips, audio) if is_silent(x, silence)]

    n_q = codec.num_quantizers
    t0 = time.perf_counter()
    # batching pays on a GPU; on a CPU one clip per call is faster (checks/models/batching.py); same codes either way
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
                                n_seeds=getattr(ctx, "repeats", None), speakers=[c.speaker for c in clips])
    m = UmapMeasured(folder=str(folder), per_class=per_class, clips=len(clips), clip_counts=counts(clips),
                     model_layers=n_q, layers=layers, layers_missing=missing,
                     decide_on=str(threshold(spec, "decide_on")),
                     umap_seeds=result.umap_seeds, stats=result.stats, gaps=result.gaps, plots=result.plots,
                     codec_check=checks, codec_best_pesq=max(scored) if scored else None, silent_clips=silent,
                     encode_seconds=encode_seconds, umap_seconds=result.umap_seconds, speakers_left_out=left_out,
                     per_speaker=result.per_speaker)
    verdicts = judge(m, spec)
    notes = [f"speaker {spk} left out: no {', '.join(miss)} clips (every emotion is sampled from the same "
             "speakers, so the speaker cannot be what separates them)" for spk, miss in left_out.items()]
    if missing:
        notes.append(f"this Mimi has {n_q} code layers: layers {', '.join(map(str, missing))} cannot be measured "
                     "(the real kyutai/mimi has 32)")
    blocked = gate(m, spec)
    if blocked:
        notes.append(blocked)
    if silent:
        notes.append(f"{len(silent)} clip(s) are silent (below {silence:g} dBFS): {', '.join(silent[:5])}")
    fragile = fragile_options(verdicts)
    if fragile:
        notes.append(f"fragile claim(s) {', '.join(fragile)}: UMAP seeds or the resampling interval fall on both "
                     "sides of the threshold; read the per-seed values before trusting them")
    art = ctx.artifact_dir(spec.id)
    return Evidence(spec.id, m, verdicts, summary(m), artifacts=str(art) if art else None, notes=notes)
