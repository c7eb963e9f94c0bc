"""q04 — the data type of a Mimi token, and why.

Encode the clip the spec names (``check.assets``: the 2 s clip) and read the codes' dtype and value
range; then show that a code is an index into its layer's codebook: (1) rebuilding the quantised
latent by plain table lookup (the rows the codes index, summed per RVQ group, through the group's
``output_proj``; float32 on the CPU) reproduces what the model's quantizer hands its decoder, within
``thresholds.lookup_rel_error_max`` of the latent's scale (max |latent|): like with like whatever device
computed the model's latent (a GPU's TF32 convolutions are off in a key run, and would still pass);
(2) redoing residual vector quantisation here from the codebook tables, layer by layer on the residual the
model's own codes left, finds each code as the nearest row in at least
``thresholds.nearest_code_agreement_min`` of the positions. Codes must lie in
``[0, thresholds.codebook_size)``. In bfloat16/float16 the model's own latent is coarser than the
float32 lookup, so the lookup tolerance fails and the question stays pending: run it in float32.
"""
from __future__ import annotations

from dataclasses import dataclass

from checks.audio import load_audio
from checks.evidence import Decision, Evidence, OptionVerdict, SpecError, decide_single, threshold

OPTIONAL_ASSETS: frozenset[str] = frozenset()


@dataclass
class DtypeMeasured:
    file: str
    dtype: str
    """``str(codes.dtype)``, e.g. ``torch.int64``."""
    kind: str
    """The dtype as the options name it: integer, float32, float16, bfloat16, float64, boolean, other."""
    shape: list[int]
    code_min: int | float
    code_max: int | float
    distinct_codes: int
    lookup_max_abs_error: float
    """max |table lookup − model.quantizer.decode(codes)| over the quantised latent."""
    latent_max_abs: float
    """max |quantised latent|, the scale the error is measured against."""
    nearest_agreement: float
    """Fraction of (batch, layer, frame) positions where the nearest codebook row to the residual the model's
    codes left is the code (what decides)."""
    nearest_agreement_free: float | None = None
    """The same with our own nearest rows subtracted layer after layer (reported: a near-tie cascades)."""

    @property
    def lookup_rel_error(self) -> float:
        """The lookup error relative to the latent's scale."""
        return self.lookup_max_abs_error / self.latent_max_abs if self.latent_max_abs > 0 else float("inf")


def dtype_kind(dtype) -> str:
    """How the options name a torch dtype."""
    name = str(dtype).replace("torch.", "")
    if name == "bool":
        return "boolean"
    if name.startswith(("int", "uint")):
        return "integer"
    if name in ("float32", "float16", "bfloat16", "float64"):
        return name
    return "other"


def judge(m: DtypeMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option: a dtype option is true iff the codes have that dtype kind; ``integer`` is true only if the codes
    are integers in ``[0, codebook_size)`` whose table lookup reproduces the quantised latent within
    ``lookup_rel_error_max`` of the latent's scale and nearest-row agreement reaches
    ``nearest_code_agreement_min`` (else undecided)."""
    size = int(threshold(spec, "codebook_size"))
    max_rel = float(threshold(spec, "lookup_rel_error_max"))
    min_agree = float(threshold(spec, "nearest_code_agreement_min"))
    out: dict[str, OptionVerdict] = {}
    for opt in spec.options:
        v = opt.value
        if v != "integer":
            if m.kind == v:
                out[opt.id] = OptionVerdict("true", f"codes are {m.dtype}")
            else:
                out[opt.id] = OptionVerdict("false", f"codes are {m.dtype} ({m.kind}), not {v}; "
                                                     f"values {m.code_min}…{m.code_max}")
            continue
        lookup_margin = max_rel - m.lookup_rel_error
        if m.kind != "integer":
            out[opt.id] = OptionVerdict("false", f"codes are {m.dtype}, not an integer type")
        elif not (0 <= m.code_min and m.code_max < size):
            out[opt.id] = OptionVerdict("undecided", f"codes {m.code_min}…{m.code_max} are not all in [0, {size})")
        elif lookup_margin < 0:
            out[opt.id] = OptionVerdict("undecided", f"table lookup misses the quantised latent by "
                                        f"{m.lookup_max_abs_error:.3g} = {m.lookup_rel_error:.2g} of its scale "
                                        f"{m.latent_max_abs:.3g} > {max_rel:g}", lookup_margin)
        elif m.nearest_agreement < min_agree:
            out[opt.id] = OptionVerdict("undecided", f"recomputed nearest rows agree with only "
                                        f"{m.nearest_agreement:.2%} of the codes (< {min_agree:.0%})",
                                        m.nearest_agreement - min_agree)
        else:
            out[opt.id] = OptionVerdict(
                "true", f"{m.dtype} codes in [{m.code_min}, {m.code_max}] ⊂ [0, {size}); looking them up in the "
                        f"codebooks reproduces the quantised latent (max error {m.lookup_max_abs_error:.2g} = "
                        f"{m.lookup_rel_error:.2g} of its scale ≤ {max_rel:g}); nearest-row agreement "
                        f"{m.nearest_agreement:.2%} ≥ {min_agree:.0%}",
                lookup_margin)
    return out


def summary(m: DtypeMeasured) -> str:
    """The evidence line: dtype, shape and range of the codes, the lookup error and the nearest-row agreement."""
    return (f"{m.file} → {m.dtype} {m.shape}, values {m.code_min}…{m.code_max} ({m.distinct_codes} distinct); "
            f"lookup error {m.lookup_max_abs_error:.2g} (latent scale {m.latent_max_abs:.3g}, relative "
            f"{m.lookup_rel_error:.2g}); nearest-row agreement {m.nearest_agreement:.2%}")


def compute(ctx, spec) -> Evidence:
    """Encodes the spec's clip and measures the codes' dtype, value range, the codebook-lookup error against the
    model's quantised latent and the agreement of a recomputed nearest-row RVQ with the codes."""
    if not spec.check.assets:
        raise SpecError(f"questions/{spec.id}.yaml names no clip under check.assets (the check encodes one)")
    clip = spec.check.assets[0]
    codec = ctx.mimi()
    audio = load_audio(ctx.asset(clip), rate=codec.sampling_rate)
    codes, latents = codec.encode_with_latents([audio.samples])
    looked_up = codec.lookup(codes)
    quantized = codec.quantized_latent(codes)
    err = float((looked_up - quantized).abs().max())
    forced = codec.nearest_codes(latents, codes.shape[1], follow=codes)
    agreement = float((forced == codes.cpu()).float().mean())
    free = float((codec.nearest_codes(latents, codes.shape[1]) == codes.cpu()).float().mean())
    m = DtypeMeasured(file=clip, dtype=str(codes.dtype), kind=dtype_kind(codes.dtype),
                      shape=[int(s) for s in codes.shape], code_min=codes.min().item(), code_max=codes.max().item(),
                      distinct_codes=int(codes.unique().numel()), lookup_max_abs_error=err,
                      latent_max_abs=float(quantized.abs().max()), nearest_agreement=agreement,
                      nearest_agreement_free=free)
    notes = []
    if m.distinct_codes == 1:
        notes.append("every code is the same value: the codebooks may be all zero (untrained weights)")
    return Evidence(spec.id, m, judge(m, spec), summary(m), notes=notes)


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the one option whose data type the codes have and that the lookup evidence supports
    (see :func:`judge`)."""
    m = evidence.measured
    return decide_single(judge(m, spec), spec.letters, none_reason=f"codes are {m.dtype}")
