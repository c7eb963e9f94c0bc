"""q03 — what the second dimension (size 32) of the codes is.

Encode generated signals while varying one factor at a time from a base (batch, duration,
``num_quantizers``; every value from the spec's thresholds) and read which dimension moves with which
factor and equals it. An option naming a factor is true iff the asked dimension equals that factor in
every probe and moves with it and with nothing else; ``channels`` (the input is mono, 1 channel)
cannot be varied, so it is refuted when the dimension differs from 1 or moves with another factor.
The same probes refute the other options. Prefix consistency (the first K layers of a K_max encode
equal a K encode) is recorded as supporting evidence for "layers of the residual quantiser".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

from checks.evidence import Decision, Evidence, OptionVerdict, decide_single, threshold
from checks.questions.signals import probe_signal

OPTIONAL_ASSETS: frozenset[str] = frozenset()

FACTOR_OF_OPTION = {"batch_size": "batch", "frames": "seconds", "num_codebooks": "layers", "channels": None}
"""Which varied probe factor each option value names (``channels`` is fixed: the input is mono)."""


@dataclass
class Probe:
    """One encode."""

    batch: int
    seconds: float
    num_quantizers: int | None
    """Requested layers (``None``: the model's default)."""
    layers: int
    """Layers the encode was asked for (the default resolved)."""
    samples: int
    frames_by_math: int
    """``ceil(samples / hop)``."""
    shape: list[int]


@dataclass
class AxesMeasured:
    input_channels: int
    """Channels of the input fed to the encoder (mono)."""
    default_num_quantizers: int
    hop: int
    probes: list[Probe] = field(default_factory=list)
    prefix_consistent: bool | None = None
    """Codes of a K-layer encode equal the first K layers of the largest encode (None: not probed)."""


@dataclass(frozen=True)
class AxisReading:
    dim: int
    sizes: tuple[int, ...]
    equals: tuple[str, ...]
    """Option values (batch_size, frames, num_codebooks, channels) whose quantity equals the size in every probe."""
    moves_with: tuple[str, ...]
    """Option values whose factor, varied alone, changed the size."""


def _factor_value(p: Probe, name: str, channels: int) -> int:
    return {"batch_size": p.batch, "frames": p.frames_by_math, "num_codebooks": p.layers, "channels": channels}[name]


def _moves(probes: list[Probe], d: int, factor: str) -> bool:
    """Some two probes that differ in ``factor`` alone differ in dimension ``d``."""
    others = [f for f in ("batch", "seconds", "layers") if f != factor]
    return any(all(getattr(a, f) == getattr(b, f) for f in others)
               and getattr(a, factor) != getattr(b, factor) and a.shape[d] != b.shape[d]
               for a, b in combinations(probes, 2))


def axis_readings(m: AxesMeasured) -> list[AxisReading]:
    """Pure: for every dimension, which quantities it equals and which factors move it."""
    if not m.probes:
        return []
    ndim = len(m.probes[0].shape)
    out = []
    for d in range(ndim):
        sizes = tuple(p.shape[d] for p in m.probes)
        equals = tuple(name for name in FACTOR_OF_OPTION
                       if all(p.shape[d] == _factor_value(p, name, m.input_channels) for p in m.probes))
        moves = tuple(name for name, factor in FACTOR_OF_OPTION.items()
                      if factor is not None and _moves(m.probes, d, factor))
        out.append(AxisReading(d, sizes, equals, moves))
    return out


def _varied(m: AxesMeasured) -> set[str]:
    varied = set()
    for name, factor in FACTOR_OF_OPTION.items():
        if factor is not None and len({getattr(p, factor) for p in m.probes}) > 1:
            varied.add(name)
    return varied


def judge(m: AxesMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option: true iff dimension ``thresholds.dimension`` equals the option's quantity in every probe and moves
    with it alone; false if it differs or moves with another factor; all undecided unless the default-settings probe
    has ``thresholds.dimension_size`` there."""
    size = int(threshold(spec, "dimension_size"))
    dim = int(threshold(spec, "dimension"))
    readings = axis_readings(m)
    out: dict[str, OptionVerdict] = {}
    base = next((p for p in m.probes if p.num_quantizers is None), None)
    if base is None or dim >= len(readings):
        return {o.id: OptionVerdict("undecided", "no default-settings probe of that dimension") for o in spec.options}
    if base.shape[dim] != size:
        why = f"with default settings dimension {dim} is {base.shape[dim]}, not {size} as the question says"
        return {o.id: OptionVerdict("undecided", why) for o in spec.options}
    r = readings[dim]
    varied = _varied(m)
    for opt in spec.options:
        v = opt.value
        if v not in FACTOR_OF_OPTION:
            out[opt.id] = OptionVerdict("undecided", f"unknown option value {v!r}")
            continue
        moved_by_others = [x for x in r.moves_with if x != v]
        if v not in r.equals:
            values = [_factor_value(p, v, m.input_channels) for p in m.probes]
            why = f"dim {r.dim} is {list(r.sizes)} where {v} is {values}"
            if v in varied and v not in r.moves_with:
                why += f"; it did not move when {v} was varied"
            if moved_by_others:
                why += f"; it moves with {', '.join(moved_by_others)}"
            out[opt.id] = OptionVerdict("false", why)
        elif moved_by_others:
            out[opt.id] = OptionVerdict("false", f"dim {r.dim} moves with {', '.join(moved_by_others)}, not only {v}")
        elif FACTOR_OF_OPTION[v] is None or v not in varied:
            out[opt.id] = OptionVerdict("undecided", f"dim {r.dim} equals {v} but {v} was not varied")
        elif v not in r.moves_with:
            out[opt.id] = OptionVerdict("undecided", f"dim {r.dim} did not move when {v} was varied")
        else:
            out[opt.id] = OptionVerdict("true", f"dim {r.dim} = {v} in every probe {list(r.sizes)} "
                                                "and moves only with it")
    return out


def summary(m: AxesMeasured) -> str:
    """The evidence line: per dimension, the quantities it equals and the factors it moves with, and whether
    the prefix-consistency probe held."""
    readings = axis_readings(m)
    parts = []
    for r in readings:
        eq = "/".join(r.equals) or "?"
        moved = "" if r.moves_with == r.equals else f" (moves with {', '.join(r.moves_with) or 'nothing'})"
        parts.append(f"dim{r.dim} = {eq}{moved}")
    clean = all(len(r.equals) == 1 and r.moves_with == r.equals for r in readings)
    how = "each equals one quantity and moves only with it" if clean else "see the verdicts"
    pc = "" if m.prefix_consistent is None else \
        f"; first K layers {'equal' if m.prefix_consistent else 'DIFFER from'} a K-layer encode"
    return ", ".join(parts) + f" ({how}; {len(m.probes)} probes varying batch, duration, num_quantizers){pc}"


def compute(ctx, spec) -> Evidence:
    """Encodes generated probes varying batch (``batch_probe``), duration (``duration_probe_s``) and
    ``num_quantizers_probe`` one at a time, records each codes shape, and checks prefix consistency across the K's."""
    codec = ctx.mimi()
    batches = [int(b) for b in threshold(spec, "batch_probe")]
    durations = [float(s) for s in threshold(spec, "duration_probe_s")]
    ks = [int(k) for k in threshold(spec, "num_quantizers_probe")]
    plan: list[tuple[int, float, int | None]] = [(batches[0], durations[0], None)]
    plan += [(b, durations[0], None) for b in batches[1:]]
    plan += [(batches[0], s, None) for s in durations[1:]]
    plan += [(batches[0], durations[0], k) for k in ks]
    m = AxesMeasured(input_channels=1, default_num_quantizers=codec.num_quantizers, hop=codec.hop)
    by_k = {}
    for b, s, k in plan:
        x = probe_signal(s, codec.sampling_rate, ctx.seed, batch=b)
        codes = codec.encode(list(x), num_quantizers=k)
        layers = codec.num_quantizers if k is None else k
        m.probes.append(Probe(batch=b, seconds=s, num_quantizers=k, layers=layers, samples=x.shape[1],
                              frames_by_math=math.ceil(x.shape[1] / codec.hop), shape=[int(n) for n in codes.shape]))
        if k is not None:
            by_k[k] = codes
    if len(by_k) > 1:
        kmax = max(by_k)
        m.prefix_consistent = all(bool((by_k[k] == by_k[kmax][:, :k]).all()) for k in by_k)
    return Evidence(spec.id, m, judge(m, spec), summary(m))


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the one quantity the asked dimension equals and moves with (see :func:`judge`)."""
    return decide_single(judge(evidence.measured, spec), spec.letters,
                         none_reason=summary(evidence.measured))
