"""q08 — laughter vs music: which decodes worst, and what does that indicate?

All four clips (``thresholds.clips``: the two speech clips are the control) are encoded with
``num_quantizers`` code layers and decoded; wideband PESQ against the original (:mod:`checks.questions.reconstruction`).
Every option is "X reconstructs worst" *and* an explanation; each clause has its own evidence:

* ``worst: X`` — of the ``compared`` clips, X scores lowest by ≥ ``pesq_worst_gap_min``, *and* both
  spectral distances that are not speech-specific (log-spectral and multi-scale mel, valid for music and
  laughter) rank the pair the same way: PESQ is a speech metric and never decides music against laughter
  alone. The clause is false only when the *other* clip is clearly worse (by the same gap, the spectral
  distances agreeing); nearly equal scores leave it undecided. Without the spectral distances, or when either
  contradicts PESQ's direction, the clause is undecided (a TA listens);
* ``paralinguistic`` — laughter < ``pesq_good_min`` while music and the speech clips are ≥ it (a failure
  specific to the paralinguistic sound). A speech clip's "reconstructed well" also needs ESTOI
  (``estoi_good_min``) to agree, as in q07;
* ``non_speech`` — laughter and music < ``pesq_good_min`` while the speech clips are ≥ it;
* ``music_hard`` — music < ``pesq_good_min`` even in the shortest windows encoded alone
  (:func:`checks.questions.reconstruction.chunk_test`): what the tokens lose is in the content, so a model
  working on them would find music hard;
* ``long_sequences`` — the length test: music's windows encoded alone beat the same windows in the
  whole-clip reconstruction (each window paired with itself) by ≥ ``length_effect_min`` at the shortest
  window length in ``chunk_seconds``, fixed in advance (taking the largest effect over the lengths would be
  biased toward true); the other lengths are reported.

The explanation clauses are proxies (a PESQ line, 1-second windows) for what an option's second half means: a
proxy clause may confirm an option or open it for a TA's review, never refute it alone — only the ``worst``
clause makes an option false (:func:`proxy`). Each comparison is decided outside ``± undecided_band`` (ESTOI:
``estoi_undecided_band``) of its threshold.
Gate as in q07 (too few code layers, or a best PESQ below ``codec_works_pesq_min``): pending. Artifacts:
decoded WAVs, ``pesq.png``, ``pesq_by_window.png``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from checks.evidence import Decision, Evidence, OptionVerdict, SpecError, threshold
from checks.questions.claims import Clause, at_least, combine
from checks.questions.reconstruction import (
    ChunkScore,
    ClipScore,
    chunk_chart,
    chunk_test,
    clause_all,
    clip_roles,
    decide_gated,
    gate,
    no_pesq,
    pesq_bar_chart,
    quality,
    reconstruction_evidence,
    score_clip,
)

OPTIONAL_ASSETS: frozenset[str] = frozenset()
ROLES = ("english", "chinese", "laughter", "music")
BECAUSE = ("paralinguistic", "non_speech", "music_hard", "long_sequences")


@dataclass
class NonSpeechMeasured:
    model_layers: int
    num_quantizers_asked: int
    num_quantizers_used: int
    clips: list[ClipScore] = field(default_factory=list)
    chunks: list[ChunkScore] = field(default_factory=list)
    """The length test of every clip (the speech clips are the control)."""
    plots: list[str] = field(default_factory=list)


def _by_role(m: NonSpeechMeasured) -> dict[str, ClipScore]:
    return {s.role: s for s in m.clips}


SPECTRAL = {"lsd_db": "log-spectral distance", "mel_db": "mel distance"}
"""The measures that are not speech-specific (ClipScore fields, dB, larger = worse): both must rank a "worst"
pair the way PESQ does."""


def clause_worst(x: ClipScore, others: list[ClipScore], gap: float, band: float) -> Clause:
    """The "``x`` worst" clause: true when the lowest PESQ among ``others`` minus PESQ(``x``) ≥ ``gap`` (``± band``),
    false only when some other clip is that much worse than ``x`` (``x`` is clearly not the worst), undecided in
    between; a decided verdict needs both spectral distances (:data:`SPECTRAL`: log-spectral and multi-scale mel)
    to rank the pair the same way (PESQ alone never decides music against laughter). Undecided when a clip has no
    PESQ or lacks a spectral distance, or when any measure disagrees; an undecided clause's margin is the signed
    PESQ difference (positive: ``x`` is the worse one)."""
    pool = [x, *others]
    missing = [s for s in pool if s.pesq is None]
    if missing:
        return Clause(f"{x.role} worst", "undecided", "; ".join(no_pesq(s) for s in missing))
    runner = min(others, key=lambda s: s.pesq)
    diff = runner.pesq - x.pesq
    why = (f"PESQ {', '.join(f'{s.role} {s.pesq:.2f}' for s in pool)}: {runner.role} − {x.role} = {diff:+.2f} "
           f"vs gap {gap:g}")
    worse, margin = at_least(diff, gap, band)
    if worse != "true":
        other_worse, other_margin = at_least(-diff, gap, band)
        if other_worse == "true":
            worse, margin = "false", other_margin
        else:
            return Clause(f"{x.role} worst", "undecided", why + f": neither is worse by the gap (± {band:g}), so "
                                                                "neither is clearly the worst", diff)
    absent = [label for f, label in SPECTRAL.items() if getattr(x, f) is None or getattr(runner, f) is None]
    if absent:
        return Clause(f"{x.role} worst", "undecided", why + f"; no {' or '.join(absent)} to confirm it: PESQ alone "
                                                            "does not decide between non-speech sounds", diff)
    contradicting = []
    for f, label in SPECTRAL.items():
        mine, theirs = getattr(x, f), getattr(runner, f)
        why += f"; {label} {x.role} {mine:.1f} dB, {runner.role} {theirs:.1f} dB"
        # the measure must rank the pair as PESQ does: x worse when "true", the other worse when "false"
        if (mine > theirs) != (worse == "true"):
            contradicting.append(label)
    if contradicting:
        return Clause(f"{x.role} worst", "undecided", why + f": the {' and '.join(contradicting)} rank them the other "
                                                            f"way; PESQ says {worse}, the measures disagree, so not "
                                                            "decided")
    return Clause(f"{x.role} worst", worse, why + " (measures agree)", margin)


def proxy(c: Clause) -> Clause:
    """An explanation clause measured by a proxy: it may confirm an option or open it, never refute it alone. A
    ``false`` becomes undecided, leaning false (its margin negated), with the reason in its evidence line."""
    if c.verdict != "false":
        return c
    return Clause(c.name, "undecided", f"{c.why} → false by a proxy, which opens the option for a TA's review and "
                                       "never refutes it alone", None if c.margin is None else -c.margin)


def _good(s: ClipScore, spec, want_good: bool) -> Clause:
    """Clip ``s`` reconstructed well (``want_good``) or not, against ``pesq_good_min``: a speech clip by PESQ and
    ESTOI agreeing, as in q07 (:func:`checks.questions.reconstruction.quality`); laughter and music by PESQ alone
    (ESTOI measures speech intelligibility and says nothing about them; PESQ with that caveat)."""
    name = f"{s.role} {'reconstructed well' if want_good else 'not reconstructed well'}"
    if s.role in threshold(spec, "speech"):
        return quality([s], spec, "good", name, above=want_good)
    return clause_all([s], float(threshold(spec, "pesq_good_min")), float(threshold(spec, "undecided_band")), name,
                      above=want_good)


def _all(clauses: list[Clause], name: str) -> Clause:
    v = combine(clauses)
    return Clause(name, v.verdict, v.why, v.margin)


def clause_because(because: str, m: NonSpeechMeasured, spec) -> Clause:
    """The explanation clause ``because`` (``paralinguistic``, ``non_speech``, ``music_hard``, ``long_sequences``),
    judged against ``pesq_good_min`` or ``length_effect_min`` (``± undecided_band``) as the module docstring
    describes."""
    good = float(threshold(spec, "pesq_good_min"))
    band = float(threshold(spec, "undecided_band"))
    roles = _by_role(m)
    speech = [roles[r] for r in threshold(spec, "speech")]
    laugh, music = roles["laughter"], roles["music"]
    if because == "paralinguistic":
        return _all([_good(laugh, spec, False), _good(music, spec, True),
                     *(_good(s, spec, True) for s in speech)], "paralinguistic-specific failure")
    if because == "non_speech":
        return _all([_good(laugh, spec, False), _good(music, spec, False),
                     *(_good(s, spec, True) for s in speech)], "non-speech fails, speech works")
    music_chunks = sorted((c for c in m.chunks if c.role == "music"), key=lambda c: c.chunk_seconds)
    if because == "music_hard":
        scored = [c for c in music_chunks if c.pesq_alone is not None]
        if scored:
            c = scored[0]
            verdict, margin = at_least(good - c.pesq_alone, 0.0, band)
            return Clause("music content hard", verdict,
                          f"music in {c.chunk_seconds:g} s windows encoded alone: PESQ {c.pesq_alone:.2f} vs good "
                          f"{good:g} (whole clip {music.pesq if music.pesq is not None else float('nan'):.2f})",
                          margin)
        c2 = _good(music, spec, False)
        return Clause("music content hard", c2.verdict, c2.why + " (clip too short for the window test)", c2.margin)
    if because == "long_sequences":
        effect_min = float(threshold(spec, "length_effect_min"))
        scored = [c for c in music_chunks if c.effect is not None]
        if not scored:
            why = "no music window could be scored" + (
                f" ({'; '.join(e for c in music_chunks for e in c.errors[:2])})" if music_chunks else
                f" (music lasts {music.seconds:.2f} s, shorter than every window length)")
            return Clause("long sequences are the problem", "undecided", why)
        # decided at one length fixed in advance, the shortest (where short and long sequences differ most), on
        # the windows' paired differences; the largest effect over several lengths would be biased toward true
        first = scored[0]
        verdict, margin = at_least(first.effect, effect_min, band)
        table = ", ".join(f"{c.chunk_seconds:g} s: alone {c.pesq_alone:.2f} vs in context {c.pesq_in_context:.2f}"
                          for c in scored)
        return Clause("long sequences are the problem", verdict,
                      f"length effect {first.effect:+.2f} at the shortest window, {first.chunk_seconds:g} s "
                      f"({first.scored} windows, each paired with itself in the whole clip) vs {effect_min:g} "
                      f"({table})", margin)
    raise SpecError(f"questions/{spec.id}.yaml: unknown explanation {because!r} (one of {', '.join(BECAUSE)})")


def judge(m: NonSpeechMeasured, spec) -> dict[str, OptionVerdict]:
    """Per option: its ``worst`` clause (``pesq_worst_gap_min``) and its ``because`` clause (a :func:`proxy`)
    combined; every option undecided when the codec gate closes."""
    blocked = gate(m, spec)
    if blocked:
        return {opt.id: OptionVerdict("undecided", blocked) for opt in spec.options}
    gap = float(threshold(spec, "pesq_worst_gap_min"))
    band = float(threshold(spec, "undecided_band"))
    roles = _by_role(m)
    compared = [roles[r] for r in threshold(spec, "compared")]
    out: dict[str, OptionVerdict] = {}
    for opt in spec.options:
        v = opt.value or {}
        worst, because = v.get("worst"), v.get("because")
        if worst not in threshold(spec, "compared") or because is None:
            raise SpecError(f"questions/{spec.id}.yaml option {opt.id}: value needs worst (one of the compared "
                            f"clips) and because")
        x = roles[worst]
        out[opt.id] = combine([clause_worst(x, [s for s in compared if s is not x], gap, band),
                               proxy(clause_because(because, m, spec))])
    return out


def summary(m: NonSpeechMeasured) -> str:
    """The evidence line: each clip's wideband PESQ (or why it has none) and music's length effect per window."""
    parts = [f"{s.role} {s.pesq:.2f}" if s.pesq is not None else f"{s.role} no score ({s.pesq_error})"
             for s in m.clips]
    effects = [f"{c.chunk_seconds:g}s {c.effect:+.2f}" for c in m.chunks if c.role == "music" and c.effect is not None]
    tail = f"; music length effect (alone − in context): {', '.join(effects)}" if effects else ""
    return (f"PESQ wb after encode/decode with {m.num_quantizers_used} of {m.num_quantizers_asked} layers: "
            + ", ".join(parts) + tail)


def compute(ctx, spec) -> Evidence:
    """Encodes and decodes the four clips of ``thresholds.clips`` with ``num_quantizers`` layers, measures their
    wideband PESQ and the window-length test of ``chunk_seconds`` (decoded WAVs and plots as artifacts)."""
    codec = ctx.mimi()
    asked = int(threshold(spec, "num_quantizers"))
    used = min(asked, codec.num_quantizers)
    art = ctx.artifact_dir(spec.id)
    silence = float(threshold(spec, "silence_dbfs"))
    level = float(threshold(spec, "clipping_level"))
    seconds = [float(s) for s in threshold(spec, "chunk_seconds")]
    m = NonSpeechMeasured(codec.num_quantizers, asked, used)
    for role, name in clip_roles(spec, ROLES).items():
        score, x, y = score_clip(codec, role, ctx.asset(name), used, silence, level, art)
        m.clips.append(score)
        m.chunks.extend(chunk_test(codec, role, x, y, used, seconds))
    if art is not None:
        m.plots.append(str(pesq_bar_chart(m.clips, art / "pesq.png", f"q08: reconstruction with {used} code layers",
                                          {"good": float(threshold(spec, "pesq_good_min"))})))
        m.plots.append(str(chunk_chart(m.chunks, m.clips, art / "pesq_by_window.png",
                                       "q08: does sequence length matter?")))
    return reconstruction_evidence(spec, m, m.clips, judge(m, spec), summary(m), art)


def decide(evidence: Evidence, spec) -> Decision:
    """Single answer: the one option whose clauses all hold; pending with the gate's reason when the codec gate
    closes (:func:`decide_gated`)."""
    m = evidence.measured
    return decide_gated(m, spec, judge(m, spec), summary(m))
