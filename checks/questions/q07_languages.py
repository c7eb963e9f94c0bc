"""q07 — English vs Chinese TTS: which does Mimi reconstruct better, and are both reconstructed well?

Each clip (``thresholds.clips``) is encoded with ``num_quantizers`` code layers (all 32) and decoded
(:mod:`checks.questions.reconstruction`); wideband PESQ at 16 kHz against the original decides. Every option is a
conjunction of clauses, each judged on its own (:func:`checks.questions.claims.combine`):

* ``better: X`` — PESQ(X) − PESQ(other) ≥ ``pesq_significant_gap`` *and* the other clip poor
  (< ``pesq_poor_max``): "significantly better, showing an advantage" needs the other side to fail, not only a
  gap between two good reconstructions;
* ``only: X`` — the other clip < ``pesq_good_min`` ("Mimi only suits X" needs the other to fail);
* ``both: good`` — both ≥ ``pesq_good_min``; ``both: poor`` — both < ``pesq_poor_max``;

each outside ``± undecided_band`` of its threshold. A clip pesq cannot score (silence, too short, an
all-zero decode) leaves the clauses that need it undecided, with pesq's reason.

Gate: a model with fewer code layers than asked, or one whose best PESQ is below
``codec_works_pesq_min`` (untrained or fixture weights), decides nothing: the question is pending.
Artifacts: the decoded WAVs and ``pesq.png``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from checks.evidence import Decision, Evidence, OptionVerdict, SpecError, threshold
from checks.questions.claims import Clause, at_least, combine
from checks.questions.reconstruction import (
    ClipScore,
    clip_roles,
    decide_gated,
    gate,
    pesq_bar_chart,
    reconstruction_evidence,
    score_clip,
)

OPTIONAL_ASSETS: frozenset[str] = frozenset()
ROLES = ("english", "chinese")


@dataclass
class LanguagesMeasured:
    model_layers: int
    """Code layers the loaded Mimi has."""
    num_quantizers_asked: int
    num_quantizers_used: int
    """``min(asked, model_layers)``: what the clips were encoded with."""
    clips: list[ClipScore] = field(default_factory=list)
    plot: str | None = None


def _pesq(m, role: str) -> ClipScore:
    for s in m.clips:
        if s.role == role:
            return s
    raise SpecError(f"no clip with role {role!r} was measured")


def _missing(s: ClipScore) -> str:
    return f"no PESQ for {s.role} ({s.file}: {s.pesq_error}: {s.pesq_message})"


def clause_better(better: ClipScore, other: ClipScore, gap: float, band: float) -> Clause:
    """The "significantly better" clause: PESQ(``better``) − PESQ(``other``) ≥ ``gap`` (``± band``); undecided when
    either clip has no PESQ."""
    if better.pesq is None or other.pesq is None:
        return Clause("significantly better", "undecided", _missing(better if better.pesq is None else other))
    diff = better.pesq - other.pesq
    verdict, margin = at_least(diff, gap, band)
    return Clause("significantly better", verdict,
                  f"PESQ {better.role} {better.pesq:.2f} − {other.role} {other.pesq:.2f} = {diff:+.2f} vs gap {gap:g}",
                  margin)


def clause_not_good(s: ClipScore, good: float, band: float, name: str) -> Clause:
    """Clause ``name``: clip ``s`` is not reconstructed well, i.e. its PESQ < ``good`` (``± band``); undecided
    without a PESQ."""
    if s.pesq is None:
        return Clause(name, "undecided", _missing(s))
    verdict, margin = at_least(good - s.pesq, 0.0, band)
    return Clause(name, verdict, f"PESQ {s.role} {s.pesq:.2f} {'<' if s.pesq < good else '≥'} good {good:g}", margin)


def clause_all(scores: list[ClipScore], limit: float, band: float, name: str, above: bool) -> Clause:
    """All ``scores`` ≥ ``limit`` (``above``) or all < ``limit`` (not ``above``)."""
    missing = [s for s in scores if s.pesq is None]
    if missing:
        return Clause(name, "undecided", "; ".join(_missing(s) for s in missing))
    values = ", ".join(f"{s.role} {s.pesq:.2f}" for s in scores)
    if above:
        worst = min(s.pesq for s in scores)
        verdict, margin = at_least(worst, limit, band)
        return Clause(name, verdict, f"PESQ {values}: lowest {worst:.2f} vs {limit:g}", margin)
    best = max(s.pesq for s in scores)
    verdict, margin = at_least(limit - best, 0.0, band)
    return Clause(name, verdict, f"PESQ {values}: highest {best:.2f} vs {limit:g}", margin)


def judge(m: LanguagesMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option: the conjunction of its clauses (``better`` / ``only`` / ``both``) against
    ``pesq_significant_gap``, ``pesq_good_min`` and ``pesq_poor_max`` (``± undecided_band``); every option
    undecided when the codec gate closes."""
    good = float(threshold(spec, "pesq_good_min"))
    poor = float(threshold(spec, "pesq_poor_max"))
    gap = float(threshold(spec, "pesq_significant_gap"))
    band = float(threshold(spec, "undecided_band"))
    blocked = gate(m, spec)
    if blocked:
        return {opt.id: OptionVerdict("undecided", blocked) for opt in spec.options}
    en, zh = _pesq(m, "english"), _pesq(m, "chinese")
    role = {"english": en, "chinese": zh}
    out: dict[str, OptionVerdict] = {}
    for opt in spec.options:
        v = opt.value or {}
        clauses: list[Clause] = []
        if "better" in v:
            if v["better"] not in role:
                raise SpecError(f"questions/{spec.id}.yaml option {opt.id}: better must be english or chinese")
            x = role[v["better"]]
            y = zh if x is en else en
            clauses.append(clause_better(x, y, gap, band))
            clauses.append(clause_all([y], poor, band, f"{y.role} not reconstructed effectively", above=False))
        if "only" in v:
            x = role[v["only"]]
            y = zh if x is en else en
            clauses.append(clause_not_good(y, good, band, f"only {x.role}: {y.role} not reconstructed well"))
        if v.get("both") == "good":
            clauses.append(clause_all([en, zh], good, band, "both reconstructed well", above=True))
        elif v.get("both") == "poor":
            clauses.append(clause_all([en, zh], poor, band, "neither reconstructed effectively", above=False))
        elif "both" in v:
            raise SpecError(f"questions/{spec.id}.yaml option {opt.id}: both must be good or poor")
        if not clauses:
            raise SpecError(f"questions/{spec.id}.yaml option {opt.id}: value names no clause "
                            "(better / only / both)")
        out[opt.id] = combine(clauses)
    return out


def summary(m: LanguagesMeasured) -> str:
    """The evidence line: each clip's wideband PESQ (or why it has none) and the layers used."""
    parts = [f"{s.role} {s.pesq:.2f}" if s.pesq is not None else f"{s.role} no score ({s.pesq_error})"
             for s in m.clips]
    return (f"PESQ wb after encode/decode with {m.num_quantizers_used} of {m.num_quantizers_asked} layers: "
            + ", ".join(parts))


def compute(ctx, spec) -> Evidence:
    """Encodes and decodes each clip of ``thresholds.clips`` with ``num_quantizers`` layers and measures its wideband
    PESQ against the original (decoded WAVs and ``pesq.png`` as artifacts)."""
    codec = ctx.mimi()
    asked = int(threshold(spec, "num_quantizers"))
    used = min(asked, codec.num_quantizers)
    art = ctx.artifact_dir(spec.id)
    silence = float(threshold(spec, "silence_dbfs"))
    level = float(threshold(spec, "clipping_level"))
    scores = [score_clip(codec, role, ctx.asset(name), used, silence, level, art)[0]
              for role, name in clip_roles(spec, ROLES).items()]
    m = LanguagesMeasured(codec.num_quantizers, asked, used, scores)
    if art is not None:
        m.plot = str(pesq_bar_chart(scores, art / "pesq.png", f"q07: reconstruction with {used} code layers",
                                    {"good": float(threshold(spec, "pesq_good_min")),
                                     "poor": float(threshold(spec, "pesq_poor_max"))}))
    return reconstruction_evidence(spec, m, scores, judge(m, spec), summary(m), art)


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the one option whose clauses all hold; pending with the gate's reason when the codec gate
    closes (:func:`decide_gated`)."""
    m = evidence.measured
    return decide_gated(m, spec, judge(m, spec), summary(m))
