"""q05 — the first five values of code 2047's vector in layer 0's codebook.

Every reading a Colab might have printed is computed (DESIGN 7.1): the codebook vector
``embed = embed_sum / cluster_usage.clamp(min=eps)`` (fresh from the buffers, float32), the raw
``embed_sum`` row, the vector after the semantic quantiser's ``output_proj`` (512-d), and ``embed``
computed in bfloat16 (a Colab running the model in bf16). Each is compared with every option's
``value``: a match is ``max |reading − option| ≤ thresholds.match_tolerance`` over the first
``thresholds.n_values`` values. The decision names the reading that matched; readings matching
different options, or none matching, leave the question undecided with the values — never the nearest (a TA's
review; pending with test checkpoints). An all-zero codebook (untrained weights) gates the question: pending.
CSM's own audio embedding table is a further reading that needs CSM; it is listed as not computed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from checks.evidence import Decision, Evidence, OptionVerdict, decide_single, threshold
from checks.models.hub import ModelMismatch

OPTIONAL_ASSETS: frozenset[str] = frozenset()


@dataclass
class Reading:
    """One way of reading "the embedding of code ``code_id`` in layer ``layer``"."""

    name: str
    """``embed``, ``embed_sum``, ``output_proj`` or ``embed_bfloat16``."""
    tensor: str
    """The expression that was read."""
    dim: int
    """Length of the full vector."""
    values: list[float]
    """Its first ``thresholds.n_values`` values, unrounded."""


@dataclass
class CodebookMeasured:
    layer: int
    code_id: int
    codebook_rows: int
    codebook_dim: int
    model_dtype: str
    cluster_usage: float
    """``cluster_usage[code_id]`` (embed_sum is divided by it)."""
    codebook_all_zero: bool
    """An untrained (random-init) checkpoint has all-zero codebooks."""
    readings: list[Reading] = field(default_factory=list)
    not_computed: dict[str, str] = field(default_factory=dict)
    """Readings this check could not take, with why."""


def _diff(values: list[float], option: list[float], n: int) -> float | None:
    if len(values) < n or len(option) < n:
        return None
    return max(abs(float(a) - float(b)) for a, b in zip(values[:n], option[:n]))


def judge(m: CodebookMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option: true iff some reading's first ``n_values`` values are within ``match_tolerance`` (max abs
    difference) of ``opt.value``, else false with the closest reading; undecided when no reading has enough values."""
    tol = float(threshold(spec, "match_tolerance"))
    n = int(threshold(spec, "n_values"))
    decimals = int(threshold(spec, "decimals"))
    out: dict[str, OptionVerdict] = {}
    for opt in spec.options:
        diffs = {r.name: _diff(r.values, list(opt.value or []), n) for r in m.readings}
        diffs = {k: d for k, d in diffs.items() if d is not None}
        if not diffs:
            out[opt.id] = OptionVerdict("undecided", f"no reading with {n} values to compare")
            continue
        matched = sorted((d, k) for k, d in diffs.items() if d <= tol)
        if matched:
            d, k = matched[0]
            names = ", ".join(name for _, name in matched)
            out[opt.id] = OptionVerdict("true", f"reading {names} matches at {decimals} decimals "
                                                f"(max |diff| {d:.2g} ≤ {tol:g})", tol - d)
        else:
            k, d = min(diffs.items(), key=lambda kv: kv[1])
            out[opt.id] = OptionVerdict("false", f"closest reading {k} is off by {d:.3g} > {tol:g}", d - tol)
    return out


def summary(m: CodebookMeasured, decimals: int) -> str:
    """Every reading's values, rounded to ``decimals`` places, on one line (the summary and the pending reason)."""
    return "; ".join(f"{r.name} = [{', '.join(f'{v:.{decimals}f}' for v in r.values)}]" for r in m.readings)


def compute(ctx, spec) -> Evidence:
    """Reads the first ``n_values`` values of code ``code_id`` in layer ``layer``'s codebook every way a Colab might
    have (``embed``, ``embed_sum``, after ``output_proj``, ``embed`` in bfloat16)."""
    import torch

    codec = ctx.mimi()
    layer = int(threshold(spec, "layer"))
    code = int(threshold(spec, "code_id"))
    n = int(threshold(spec, "n_values"))
    decimals = int(threshold(spec, "decimals"))
    cb = codec.codebook(layer)
    rows, dim = cb.embed_sum.shape
    if not 0 <= code < rows:
        raise ModelMismatch(f"code {code} out of range: layer {layer}'s codebook has {rows} rows")
    embed = codec.codebook_vectors(layer)  # float32, fresh from the buffers
    path = "quantizer.{}.layers[{}].codebook".format(
        "semantic_residual_vector_quantizer" if layer < codec.num_semantic else "acoustic_residual_vector_quantizer",
        layer if layer < codec.num_semantic else layer - codec.num_semantic)
    m = CodebookMeasured(layer=layer, code_id=code, codebook_rows=int(rows), codebook_dim=int(dim),
                         model_dtype=str(codec.dtype).replace("torch.", ""),
                         cluster_usage=float(cb.cluster_usage[code]),
                         codebook_all_zero=bool((cb.embed_sum == 0).all()))

    def add(name: str, tensor: str, vec) -> None:
        m.readings.append(Reading(name, tensor, int(vec.numel()), [float(v) for v in vec[:n]]))

    add("embed", f"{path}.embed[{code}] = embed_sum[{code}] / cluster_usage[{code}].clamp(min={cb.epsilon:g})",
        embed[code])
    add("embed_sum", f"{path}.embed_sum[{code}]", cb.embed_sum[code].float().cpu())
    rvq = codec.rvq_for_layer(layer)
    if rvq.output_proj is not None:
        w = rvq.output_proj.weight.float().cpu()[:, :, 0]
        with torch.inference_mode():
            add("output_proj", f"{path.rsplit('.layers', 1)[0]}.output_proj(embed[{code}])", w @ embed[code])
    else:
        m.not_computed["output_proj"] = "this quantiser has no output_proj"
    bf = (cb.embed_sum[code].to(torch.bfloat16) /
          cb.cluster_usage[code].to(torch.bfloat16).clamp(min=cb.epsilon)).float().cpu()
    add("embed_bfloat16", f"{path}.embed[{code}] with the buffers in bfloat16", bf)
    m.not_computed["csm_audio_embedding"] = ("CSM's own audio embedding table needs sesame/csm-1b "
                                             "(loaded by the CSM checks, not here)")
    notes = []
    if m.codebook_all_zero:
        notes.append(f"layer {layer}'s codebook is all zeros: an untrained (random-init) checkpoint")
    return Evidence(spec.id, m, judge(m, spec), summary(m, decimals), notes=notes)


def gate(m: CodebookMeasured, spec) -> str | None:
    """Why the readings cannot answer the question, or ``None``: an all-zero codebook is an untrained (random-init)
    checkpoint, whose vectors are zeros whatever the homework's model holds."""
    if m.codebook_all_zero:
        return (f"layer {m.layer}'s codebook is all zeros: an untrained (random-init) checkpoint, not kyutai/mimi's "
                "weights; nothing to compare with the options")
    return None


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the one option some reading matches (see :func:`judge`); pending with the values otherwise."""
    m = evidence.measured
    verdicts = judge(m, spec)
    blocked = gate(m, spec)
    if blocked:
        return Decision("pending", (), blocked, None, verdicts)
    return decide_single(verdicts, spec.letters, none_reason=summary(m, int(threshold(spec, "decimals"))))
