"""q07 — English vs Chinese TTS: which does Mimi reconstruct better, and are both reconstructed well?

Each clip (``thresholds.clips``) is encoded with ``num_quantizers`` code layers (all 32) and decoded
(:mod:`checks.questions.reconstruction`) and scored against the original by two independent measures: wideband
PESQ at 16 kHz (quality, MOS-LQO) and ESTOI (intelligibility). Every option is a conjunction of clauses, each
judged on its own (:func:`checks.questions.claims.combine`):

* ``better: X`` — PESQ(X) − PESQ(other) ≥ ``pesq_significant_gap`` *and* the other clip poor
  (PESQ < ``pesq_poor_max`` and ESTOI < ``estoi_poor_max``): "significantly better, showing an advantage" needs
  the other side to fail, not only a gap between two good reconstructions;
* ``only: X`` — the other clip not reconstructed well (PESQ < ``pesq_good_min``, ESTOI < ``estoi_good_min``);
* ``both: good`` — both clips at or above ``pesq_good_min`` and ``estoi_good_min``; ``both: poor`` — both
  below ``pesq_poor_max`` and ``estoi_poor_max``;

each measure outside its band (``undecided_band`` for PESQ, ``estoi_undecided_band``) of its threshold, and a
"well" / "poor" clause decided only when PESQ and ESTOI say the same (:func:`checks.questions.claims.agree`):
when they disagree the clause is open for a TA's review, with both numbers. Where the ASR can transcribe the
clip's language (``languages``; a multilingual Whisper), a third measure must agree too: the transcript of the
reconstruction against the transcript of the original (CER for Chinese, WER for English; :func:`hear`). A clip
pesq cannot score (silence, too short, an all-zero decode) leaves the clauses that need it undecided, with pesq's
reason.

Gate: a model with fewer code layers than asked, or one whose best PESQ is below
``codec_works_pesq_min`` (untrained or fixture weights), decides nothing: the question is pending.
Artifacts: the decoded WAVs and ``pesq.png``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from checks.evidence import Decision, Evidence, OptionVerdict, SpecError, threshold
from checks.metrics.wer import WerError, transcript_error
from checks.models.asr import can_transcribe
from checks.questions.claims import Clause, at_least, combine
from checks.questions.reconstruction import (
    ClipScore,
    clip_roles,
    clip_text,
    decide_gated,
    gate,
    no_pesq,
    pesq_bar_chart,
    quality,
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


def clause_better(better: ClipScore, other: ClipScore, gap: float, band: float) -> Clause:
    """The "significantly better" clause: PESQ(``better``) − PESQ(``other``) ≥ ``gap`` (``± band``); undecided when
    either clip has no PESQ."""
    if better.pesq is None or other.pesq is None:
        return Clause("significantly better", "undecided", no_pesq(better if better.pesq is None else other))
    diff = better.pesq - other.pesq
    verdict, margin = at_least(diff, gap, band)
    return Clause("significantly better", verdict,
                  f"PESQ {better.role} {better.pesq:.2f} − {other.role} {other.pesq:.2f} = {diff:+.2f} vs gap {gap:g}",
                  margin)


def judge(m: LanguagesMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option: the conjunction of its clauses (``better`` / ``only`` / ``both``) against
    ``pesq_significant_gap`` and the good / poor thresholds of PESQ and ESTOI (each ``± its band``; the two
    measures must agree); every option undecided when the codec gate closes."""
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
            clauses.append(quality([y], spec, "poor", f"{y.role} not reconstructed effectively", above=False))
        if "only" in v:
            x = role[v["only"]]
            y = zh if x is en else en
            clauses.append(quality([y], spec, "good", f"only {x.role}: {y.role} not reconstructed well", above=False))
        if v.get("both") == "good":
            clauses.append(quality([en, zh], spec, "good", "both reconstructed well", above=True))
        elif v.get("both") == "poor":
            clauses.append(quality([en, zh], spec, "poor", "neither reconstructed effectively", above=False))
        elif "both" in v:
            raise SpecError(f"questions/{spec.id}.yaml option {opt.id}: both must be good or poor")
        if not clauses:
            raise SpecError(f"questions/{spec.id}.yaml option {opt.id}: value names no clause "
                            "(better / only / both)")
        out[opt.id] = combine(clauses)
    return out


def hear(asr, score: ClipScore, original, decoded, rate: int, language: str) -> ClipScore:
    """``score`` with what the ASR heard in the original and in its reconstruction (one call, as ``language``)
    and how far apart the two transcripts are; without them (an English-only ASR and another language, nothing
    heard in the original, a clip pesq could not score) the reason is kept instead."""
    if not can_transcribe(asr, language):
        return replace(score, transcript_note=f"the ASR ({asr.spec}) is English-only: no {language} transcript")
    if score.pesq is None:
        return replace(score, transcript_note="not transcribed: the clip has no PESQ either")
    heard, again = asr.transcribe([original, decoded], rate=rate, language=language)
    try:
        error = transcript_error(heard.text, again.text, language)
    except WerError:
        return replace(score, heard_original=heard.text, heard_decoded=again.text,
                       transcript_note="the ASR heard nothing it could compare in the original")
    return replace(score, heard_original=heard.text, heard_decoded=again.text, transcript_error=error)


def summary(m: LanguagesMeasured) -> str:
    """The evidence line: each clip's wideband PESQ (or why it has none) and ESTOI, and the layers used."""
    return (f"PESQ wb / ESTOI after encode/decode with {m.num_quantizers_used} of {m.num_quantizers_asked} layers: "
            + ", ".join(clip_text(s) for s in m.clips))


def compute(ctx, spec) -> Evidence:
    """Encodes and decodes each clip of ``thresholds.clips`` with ``num_quantizers`` layers and measures its wideband
    PESQ against the original (decoded WAVs and ``pesq.png`` as artifacts)."""
    codec = ctx.mimi()
    asked = int(threshold(spec, "num_quantizers"))
    used = min(asked, codec.num_quantizers)
    art = ctx.artifact_dir(spec.id)
    silence = float(threshold(spec, "silence_dbfs"))
    level = float(threshold(spec, "clipping_level"))
    scored = [score_clip(codec, role, ctx.asset(name), used, silence, level, art)
              for role, name in clip_roles(spec, ROLES).items()]
    scores = [hear(ctx.model("asr").model, sc, x, y, codec.sampling_rate, threshold(spec, "languages")[sc.role])
              for sc, x, y in scored]
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
