"""q10 — Alice and James spliced layer by layer: which claims about Mimi's layers hold.

Both clips (equal length, as the homework requires; see :func:`equalise_lengths`) are encoded to
``thresholds.n_layers`` (8) code layers in one batch. Split ``k = 0 … 8`` takes layers ``[0, k)``
from Alice and ``[k, 8)`` from James (:func:`checks.questions.layers.all_splits`): ``k = 0`` is pure James,
``k = 8`` pure Alice, and for every ``k ≥ 1`` layer 0 (the semantic, WavLM-distilled layer) is
Alice's. All nine are decoded (one call on a GPU, one per call on a CPU: :mod:`checks.models.batching`),
transcribed in one batched ASR call, and embedded
with the speaker encoder in one batch with the two original clips. The table per ``k``: the
transcript, its WER against Alice's and James's texts (``alice.txt`` / ``james.txt``, else the
transcript of the original clip, noted) and the cosine similarity to each original speaker.

Every claim is decided from that table by the ``test`` its spec names (``claim.test``, with
``claim.splits`` and ``claim.speaker``; numbers in ``thresholds``):

* ``fact`` — a cited fact; the verdict is the spec's ``claim.holds``.
* ``recovered`` / ``never_recovered`` — is the speaker's text intelligible at some listed ``k``
  (WER ≤ ``intelligible_wer_max``) / unclear at all of them (WER ≥ ``unclear_wer_min``)?
* ``unclear`` — two measures that must agree (:func:`checks.questions.claims.agree`): WER against both texts
  ≥ ``unclear_wer_min`` at every listed ``k`` (unclear) or ≤ ``intelligible_wer_max`` at some ``k`` (clear),
  and the ASR's own confidence there (mean log-probability per token below / above ``clear_logprob_min`` ±
  ``logprob_band``, Whisper's own failure line). Whisper transcribes blurry audio well: a low WER alone never
  makes "relatively blurry" false.
* ``closer_to`` — at every listed ``k`` the similarity to the speaker exceeds that to the other by
  ``similarity_margin``; false when the other is closer by that margin at some ``k``. Each decode is also cut
  into windows of ``similarity_window_s``: a window that says the opposite by the margin leaves the claim
  undecided (the voice changes inside the clip); the spread per ``k`` is in the evidence.
* ``switch_at`` — *where the voice switches* to the speaker (``claim.at``): "from split_index = 3 on it sounds
  like Alice" names a switch point, as a student reads it, not "every k ≥ 3 sounds like Alice" (which also holds
  when k = 2 already does, F's case). True iff the decode at ``at − 1`` is the other speaker's and every decode
  from ``at`` to ``n`` is the speaker's (each side as in ``closer_to``: by ``similarity_margin``, its windows not
  saying otherwise); false iff ``at − 1`` is already the speaker's (the switch comes earlier) or some ``k ≥ at``
  is the other's; else undecided — the switch point is not clear, a TA listens (:func:`side`, :func:`switch_point`).

Between the thresholds a claim is undecided, with the side its numbers fall on (``lean``) for the TA's
review. **Gate**: the pure decodes (k = 0 James, k = 8 Alice)
must be intelligible as their own text, closer to their own speaker by ``similarity_margin`` and at
least ``endpoint_similarity_min`` similar to their original; otherwise nothing measured means
anything (fixture or random weights) and the question is pending, "not meaningful".
The measuring half (inputs, and the splits decoded, transcribed and embedded: :func:`naive_splits`, one at a
time as a Colab would, and :func:`batched_splits`, the two sides of ``hw10 bench``) is
:mod:`checks.questions.q10_splices`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from checks.audio import AudioError, load_audio, windows
from checks.evidence import Decision, Evidence, OptionVerdict, SpecError, threshold
from checks.metrics.wer import english_normalizer, wer_matrix
from checks.models.hub import ModelMismatch
from checks.models.speaker import cosine
from checks.questions.claims import Clause, agree, at_least, combine, complement_pairs, complementary
from checks.questions.layer_artifacts import plot_splits, scaling_note, write_wav
from checks.questions.q10_splices import (
    TEXTS,
    batched_splits,
    embed_each,
    equalise_lengths,
    reference_texts,
    refuse_silence,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


log = logging.getLogger(__name__)

SPEAKERS = ("alice", "james")
"""The first speaker (layers [0, k)) and the second (layers [k, n))."""
CLIPS = {"alice": "alice.wav", "james": "james.wav"}
OPTIONAL_ASSETS: frozenset[str] = frozenset(TEXTS.values())
"""Without a text file, the reference text is the ASR transcript of the original clip (noted)."""
TESTS = ("fact", "recovered", "never_recovered", "unclear", "closer_to", "switch_at")


@dataclass
class SplitRow:
    """One split, decoded, transcribed and embedded."""

    k: int
    """Layers [0, k) from Alice, [k, n) from James."""
    transcript: str
    """What the ASR heard (not normalised)."""
    wer_alice: float
    """WER of the transcript against Alice's text."""
    wer_james: float
    """WER of the transcript against James's text."""
    sim_alice: float | None
    """Cosine similarity of the decode's speaker embedding to the original Alice clip's (None: not embeddable)."""
    sim_james: float | None
    """Likewise to James's."""
    speaker_note: str | None = None
    """Why the decode has no speaker embedding (e.g. silent), when it has none."""
    asr_logprob: float | None = None
    """The ASR's mean log-probability per token of the transcript (its confidence; None when the backend gives none)."""
    window_gaps: list[float] = field(default_factory=list)
    """Per window of ``similarity_window_s`` (consecutive, in order): similarity of the window to Alice's original
    minus to James's. Empty when the decode is shorter than a window or a window could not be embedded."""


@dataclass
class SplitsMeasured:
    """The q10 table and what it was measured from."""

    alice_file: str
    """The first speaker's clip (layers [0, k))."""
    james_file: str
    """The second speaker's clip (layers [k, n))."""
    alice_text: str
    """Alice's reference text (see ``text_source``)."""
    james_text: str
    """James's reference text."""
    text_source: dict[str, str]
    """Per speaker: the text file read, or ``transcript of <clip>`` when there was none."""
    seconds: float
    """Length of the clips as encoded (after any trimming)."""
    frames: int
    """Code frames per clip."""
    n_layers: int
    """Code layers per clip (split k runs over 0 … n_layers)."""
    sample_rate: int
    """Rate of the clips and decodes (Hz)."""
    originals_similarity: float
    """Cosine similarity of the two original clips (how distinct the speakers are to the encoder)."""
    rows: list[SplitRow] = field(default_factory=list)
    """k = 0 … n_layers."""
    originals_heard: dict[str, str] = field(default_factory=dict)
    """Per speaker, what the ASR heard in the original clip (a check on the ASR itself)."""
    originals_wer: dict[str, float] = field(default_factory=dict)
    """Per speaker, the WER of that transcript against the speaker's reference text (0 when the text *is* it)."""


# ----------------------------------------------------------------------------- pure half


def wer_of(row: SplitRow, who: str) -> float:
    """The split's WER against ``who``'s text (``alice`` or ``james``)."""
    return row.wer_alice if who == "alice" else row.wer_james


def sim_gap(row: SplitRow, who: str) -> float | None:
    """Similarity to ``who`` minus similarity to the other speaker (None when not embedded)."""
    if row.sim_alice is None or row.sim_james is None:
        return None
    d = row.sim_alice - row.sim_james
    return d if who == "alice" else -d


def other(who: str) -> str:
    """The other speaker of :data:`SPEAKERS`."""
    return SPEAKERS[1] if who == SPEAKERS[0] else SPEAKERS[0]


def _row(m: SplitsMeasured, k: int) -> SplitRow:
    for r in m.rows:
        if r.k == k:
            return r
    raise SpecError(f"q10: split k={k} is not in the measured table (k = 0 … {m.n_layers})")


def gate(m: SplitsMeasured, spec) -> str | None:
    """Why the table cannot decide anything, or ``None``: the pure decodes must sound like themselves."""
    imax = float(threshold(spec, "intelligible_wer_max"))
    margin = float(threshold(spec, "similarity_margin"))
    sim_min = float(threshold(spec, "endpoint_similarity_min"))
    problems = []
    for k, who in ((0, "james"), (m.n_layers, "alice")):
        r = _row(m, k)
        label = f"k={k} (pure {who.capitalize()})"
        if wer_of(r, who) > imax:
            problems.append(f"{label} is not intelligible as {who.capitalize()}'s text "
                            f"(WER {wer_of(r, who):.2f} > {imax:g}; heard {r.transcript!r})")
        gap = sim_gap(r, who)
        if gap is None:
            problems.append(f"{label} has no speaker embedding ({r.speaker_note})")
            continue
        own = r.sim_alice if who == "alice" else r.sim_james
        if gap < margin:
            problems.append(f"{label} is not closer to {who.capitalize()} (similarity gap {gap:+.2f} < {margin:g})")
        if own < sim_min:
            problems.append(f"{label} is only {own:.2f} similar to the original (< {sim_min:g})")
    if problems:
        return "not meaningful: the pure reconstructions do not sound like their speakers — " + "; ".join(problems)
    return None


def _claim_params(spec, opt) -> tuple[str, list[int], str | None]:
    """``(test, splits, speaker)`` of an option's claim; for ``switch_at`` the splits are ``[at]``."""
    c = opt.claim
    extra = c.extra
    if c.decided_by == "fact":
        if not isinstance(extra.get("holds"), bool):
            raise SpecError(f"questions/{spec.id}.yaml: option {opt.id} is a fact claim and needs 'holds: true|false'")
        return "fact", [], None
    test = extra.get("test")
    if test not in TESTS[1:]:
        raise SpecError(f"questions/{spec.id}.yaml: option {opt.id} needs claim.test, one of {', '.join(TESTS[1:])}")
    n = int(threshold(spec, "n_layers"))
    if test == "switch_at":
        at = extra.get("at")
        if isinstance(at, bool) or not isinstance(at, int) or not 1 <= at <= n:
            raise SpecError(f"questions/{spec.id}.yaml: option {opt.id} needs claim.at, the split k in 1…{n} where "
                            "the voice switches")
        splits = [at]
    else:
        splits = extra.get("splits")
    if not isinstance(splits, list) or not splits or not all(isinstance(k, int) and 0 <= k <= n for k in splits):
        raise SpecError(f"questions/{spec.id}.yaml: option {opt.id} needs claim.splits, a list of k in 0…{n}")
    who = extra.get("speaker")
    if test != "unclear" and who not in SPEAKERS:
        raise SpecError(f"questions/{spec.id}.yaml: option {opt.id} needs claim.speaker, one of {', '.join(SPEAKERS)}")
    return test, list(splits), who


def _recovered(m: SplitsMeasured, splits: list[int], who: str, imax: float, umin: float, want: bool) -> OptionVerdict:
    """``want=True``: the ``recovered`` test; ``False``: ``never_recovered`` (its complement)."""
    best_k = min(splits, key=lambda k: wer_of(_row(m, k), who))
    w = wer_of(_row(m, best_k), who)
    name = who.capitalize()
    if w <= imax:
        holds, why, margin = True, (f"{name}'s text comes back at k={best_k} with layer 0 from "
                                    f"{other(who).capitalize()} "
                                    f"(WER {w:.2f} ≤ {imax:g})"), imax - w
    elif w >= umin:
        holds, why, margin = False, (f"{name}'s text is unclear at every k in {splits} (lowest WER {w:.2f} at "
                                     f"k={best_k} ≥ {umin:g})"), w - umin
    else:
        nearer_intelligible = w - imax < umin - w
        return OptionVerdict("undecided", f"lowest WER against {name}'s text {w:.2f} at k={best_k}, between "
                                          f"{imax:g} and {umin:g}", min(w - imax, umin - w),
                             lean="true" if nearer_intelligible == want else "false")
    return OptionVerdict("true" if holds == want else "false", why, margin)


def _unclear(m: SplitsMeasured, splits: list[int], imax: float, umin: float, logprob_min: float,
             logprob_band: float) -> OptionVerdict:
    """The ``unclear`` test, by two measures that must agree (:func:`checks.questions.claims.agree`): WER against
    both texts (≥ ``umin`` at every listed k: unclear; ≤ ``imax`` at some k: clear) and the ASR's confidence at
    that k (mean log-probability per token below ``logprob_min``: the ASR itself found the audio unclear). Whisper
    transcribes blurry audio well, so a low WER alone never makes "relatively blurry" false."""
    ws = {k: min(_row(m, k).wer_alice, _row(m, k).wer_james) for k in splits}
    k_min = min(ws, key=ws.get)
    w = ws[k_min]
    if w <= imax:
        by_wer = Clause("unclear", "false", f"k={k_min} is intelligible (WER {w:.2f} ≤ {imax:g}; heard "
                                            f"{_row(m, k_min).transcript!r})", imax - w)
    elif w >= umin:
        by_wer = Clause("unclear", "true", f"unclear at k in {splits}: WER against both texts ≥ {w:.2f} ≥ {umin:g}",
                        w - umin)
    else:
        by_wer = Clause("unclear", "undecided", f"WER {w:.2f} at k={k_min} lies between {imax:g} and {umin:g}",
                        (w - imax) - (umin - w))  # signed: ≥ 0 nearer "unclear"
    lp = _row(m, k_min).asr_logprob
    if lp is None:
        by_confidence = Clause("unclear", "undecided", f"no ASR confidence at k={k_min}")
    else:
        verdict, margin = at_least(logprob_min - lp, 0.0, logprob_band)
        by_confidence = Clause("unclear", verdict, f"ASR confidence at k={k_min}: mean log-probability {lp:.2f} per "
                                                   f"token vs {logprob_min:g} (Whisper's own failure line)", margin)
    return combine([agree("relatively unclear", [by_wer, by_confidence])])


def window_spread(row: SplitRow, who: str) -> str:
    """``windows a…b`` (the smallest and largest window gap toward ``who``), or ``""`` without windows."""
    gaps = [g if who == "alice" else -g for g in row.window_gaps]
    return f"{len(gaps)} windows {min(gaps):+.2f}…{max(gaps):+.2f}" if gaps else ""


def windows_against(r: SplitRow, who: str, margin: float) -> list[float]:
    """The windows of decode ``r`` closer to the other speaker than to ``who`` by at least ``margin`` (their gaps
    toward ``who``): a voice that changes inside the clip."""
    return [g for g in (w if who == "alice" else -w for w in r.window_gaps) if g <= -margin]


def _closer(m: SplitsMeasured, splits: list[int], who: str, margin: float) -> OptionVerdict:
    """The ``closer_to`` test on the whole decodes, checked against the windows of each decode: a window clearly
    closer to the other speaker (gap beyond ``margin`` the other way) where the whole decode is closer to ``who``,
    or the reverse, leaves the claim undecided (the voice changes inside the clip; a listener decides)."""
    gaps = {k: sim_gap(_row(m, k), who) for k in splits}
    missing = [k for k, g in gaps.items() if g is None]
    known = {k: g for k, g in gaps.items() if g is not None}
    name, rival = who.capitalize(), other(who).capitalize()

    spread = "; ".join(f"k={k}: {window_spread(_row(m, k), who)}" for k in splits if _row(m, k).window_gaps)
    tail = f" (similarity gap toward {name} per window: {spread})" if spread else ""
    refuting = sorted((k for k, g in known.items() if g <= -margin), key=known.get)
    if refuting:  # false at the clearest k whose windows do not say otherwise
        clean = [k for k in refuting if not windows_against(_row(m, k), other(who), margin)]
        k = clean[0] if clean else refuting[0]
        why = f"k={k} is closer to {rival} (similarity to {name} minus {rival} {known[k]:+.2f} ≤ −{margin:g})"
        if not clean:
            return OptionVerdict("undecided", why + f", but window(s) there are closer to {name} by ≥ {margin:g}: "
                                                    "the voice changes inside the clip" + tail)
        return OptionVerdict("false", why + tail, -known[k] - margin)
    if missing:
        return OptionVerdict("undecided", f"no speaker embedding at k={missing} "
                                          f"({_row(m, missing[0]).speaker_note})")
    k_low = min(known, key=known.get)
    low = known[k_low]
    if low >= margin:
        against = {k: windows_against(_row(m, k), who, margin) for k in splits}
        against = {k: v for k, v in against.items() if v}
        if against:
            k = next(iter(against))
            return OptionVerdict("undecided", f"the whole decodes are closer to {name} at every k in {splits} "
                                              f"(smallest gap {low:+.2f}), but at k={k} {len(against[k])} window(s) "
                                              f"are closer to {rival} by ≥ {margin:g}: the voice changes inside "
                                              "the clip" + tail, lean="true")
        why = f"closer to {name} at every k in {splits} (smallest gap {low:+.2f} at k={k_low} ≥ {margin:g})"
        return OptionVerdict("true", why + tail, low - margin)
    return OptionVerdict("undecided", f"at k={k_low} the similarity gap {low:+.2f} is within ±{margin:g}" + tail,
                         min(low + margin, margin - low), lean="true" if low >= 0 else "false")


def side(m: SplitsMeasured, k: int, margin: float) -> tuple[str | None, float | None, str]:
    """Whose voice the decode at ``k`` is: ``(speaker, gap, why)`` with the speaker ``alice`` or ``james`` when the
    whole decode is closer to them by ``margin`` and none of its windows is closer to the other by ``margin``, else
    ``None`` (inside the margin, no embedding, or the voice changing inside the clip); ``gap`` is the similarity to
    Alice minus to James (None without an embedding)."""
    r = _row(m, k)
    gap = sim_gap(r, "alice")
    if gap is None:
        return None, None, f"no speaker embedding at k={k} ({r.speaker_note})"
    if abs(gap) < margin:
        return None, gap, f"k={k}: similarity to Alice minus James {gap:+.2f} is within ±{margin:g}"
    who = "alice" if gap > 0 else "james"
    against = windows_against(r, who, margin)
    if against:
        return None, gap, (f"k={k} is closer to {who.capitalize()} as a whole ({gap:+.2f}), but {len(against)} of its "
                           f"windows are closer to {other(who).capitalize()} by ≥ {margin:g}: the voice changes inside "
                           "the clip")
    return who, gap, f"k={k} closer to {who.capitalize()} ({gap:+.2f})"


def switch_point(m: SplitsMeasured, who: str, margin: float) -> tuple[int | None, str]:
    """Where the voice switches to ``who`` as k grows: ``(k, why)`` with the first k from which every decode up to
    ``n_layers`` is ``who``'s (:func:`side`) when the decode just before it is clearly the other speaker's; ``(None,
    why)`` when the switch point is not clear (a decode in between is undecided, or the voice never settles)."""
    ks = sorted(r.k for r in m.rows)
    sides = {k: side(m, k, margin)[0] for k in ks}
    onset = next((k for k in ks if all(sides[j] == who for j in ks if j >= k)), None)
    name = who.capitalize()
    if onset is None:
        return None, f"no k from which every later decode is closer to {name}"
    if onset == ks[0]:
        return onset, f"every decode is closer to {name}"
    before = onset - 1
    if sides[before] == other(who):
        return onset, (f"the voice switches to {name} at k={onset} (k={before} closer to {other(who).capitalize()}, "
                       f"every k from {onset} on closer to {name})")
    return None, (f"closer to {name} at every k from {onset} on, but {side(m, before, margin)[2]}: the switch lies "
                  f"at k={onset} or earlier")


def _switch_at(m: SplitsMeasured, at: int, who: str, margin: float) -> OptionVerdict:
    """The ``switch_at`` test (module docstring): the voice is the other speaker's at ``at − 1`` and ``who``'s at
    every k from ``at`` on. Margin: the smallest |gap| − ``margin`` among the decodes the verdict rests on."""
    name, rival = who.capitalize(), other(who).capitalize()
    after = [r.k for r in m.rows if r.k >= at]
    sides = {k: side(m, k, margin) for k in [at - 1, *after]}
    toward = {k: (None if g is None else g if who == "alice" else -g) for k, (_, g, _) in sides.items()}
    where = switch_point(m, who, margin)[1]
    against = [k for k in after if sides[k][0] == other(who)]
    if against:
        k = max(against, key=lambda j: -toward[j])
        return OptionVerdict("false", f"k={k} (≥ {at}) is closer to {rival} ({toward[k]:+.2f} toward {name}): the "
                                      f"voice is not {name}'s from k={at} on; {where}", -toward[k] - margin)
    if sides[at - 1][0] == who:
        return OptionVerdict("false", f"already closer to {name} at k={at - 1} ({toward[at - 1]:+.2f}): the voice "
                                      f"switches before k={at}, so k={at} is not where it switches; {where}",
                             toward[at - 1] - margin)
    if sides[at - 1][0] == other(who) and all(sides[k][0] == who for k in after):
        margins = [abs(toward[k]) - margin for k in sides]
        return OptionVerdict("true", f"{where}: k={at - 1} closer to {rival} ({toward[at - 1]:+.2f} toward {name}), "
                                     f"every k from {at} to {after[-1]} closer to {name} (smallest "
                                     f"{min(toward[k] for k in after):+.2f})", min(margins))
    unclear = "; ".join(sides[k][2] for k in sides if sides[k][0] is None)
    known = {k: g for k, g in toward.items() if g is not None}
    lean = None
    if len(known) == len(toward):
        lean = "false" if known[at - 1] > 0 or any(known[k] < 0 for k in after) else "true"
    return OptionVerdict("undecided", f"the switch point is not clear: {unclear}; {where}", lean=lean)


def judge(m: SplitsMeasured, spec) -> dict[str, OptionVerdict]:
    """Per claim, by its ``claim.test``: facts get the spec's ``holds``; ``recovered``/``never_recovered``/``unclear``
    against ``intelligible_wer_max`` and ``unclear_wer_min``, ``closer_to`` against ``similarity_margin``; every
    measured claim undecided when the gate fails."""
    imax = float(threshold(spec, "intelligible_wer_max"))
    umin = float(threshold(spec, "unclear_wer_min"))
    margin = float(threshold(spec, "similarity_margin"))
    logprob_min = float(threshold(spec, "clear_logprob_min"))
    logprob_band = float(threshold(spec, "logprob_band"))
    blocked = gate(m, spec)
    out: dict[str, OptionVerdict] = {}
    for opt in spec.options:
        test, splits, who = _claim_params(spec, opt)
        if test == "fact":
            holds = bool(opt.claim.extra["holds"])
            out[opt.id] = OptionVerdict("true" if holds else "false",
                                        f"fact: {opt.claim.rule} Source: {opt.claim.source}")
        elif blocked:
            out[opt.id] = OptionVerdict("undecided", "not meaningful (see the gate): the pure k=0/k=8 decodes "
                                                     "do not sound like their speakers")
        elif test in ("recovered", "never_recovered"):
            out[opt.id] = _recovered(m, splits, who, imax, umin, want=(test == "recovered"))
        elif test == "unclear":
            out[opt.id] = _unclear(m, splits, imax, umin, logprob_min, logprob_band)
        elif test == "switch_at":
            out[opt.id] = _switch_at(m, splits[0], who, margin)
        else:
            out[opt.id] = _closer(m, splits, who, margin)
    return complementary(out, complement_pairs(spec))


def decide(evidence: Evidence, spec) -> Decision:
    """Every claim true or false → computed (the true ones); the gate, an undecided claim or no true claim →
    pending."""
    m = evidence.measured
    verdicts = judge(m, spec)
    blocked = gate(m, spec)
    if blocked:
        return Decision("pending", (), blocked, None, verdicts)
    undecided = [x for x in spec.letters if verdicts[x].verdict == "undecided"]
    if undecided:
        return Decision("pending", (), "undecided: " + "; ".join(f"{x}: {verdicts[x].why}" for x in undecided),
                        None, verdicts)
    true = tuple(x for x in spec.letters if verdicts[x].verdict == "true")
    if not true:
        return Decision("pending", (), "no claim holds (a multiple-answer question needs at least one)", None, verdicts)
    margins = [v.margin for v in verdicts.values() if v.margin is not None]
    return Decision("computed", true, None, min(margins) if margins else None, verdicts)


def summary(m: SplitsMeasured) -> str:
    """The evidence line: clips, length and layers, then per split k the WER against Alice's/James's text and the
    similarity to Alice/James."""
    def f(x: float | None) -> str:
        return "—" if x is None else f"{x:.2f}"

    cells = "; ".join(f"k={r.k} {f(r.wer_alice)}/{f(r.wer_james)} {f(r.sim_alice)}/{f(r.sim_james)}" for r in m.rows)
    return (f"{m.alice_file} + {m.james_file}, {m.seconds:.2f} s → {m.n_layers} layers × {m.frames} frames; "
            "per split "
            f"k (WER vs Alice/James text, similarity to Alice/James): {cells}")


def compute(ctx, spec) -> Evidence:
    """Encodes Alice's and James's clips to ``n_layers`` layers, decodes every split k, transcribes and embeds them
    and measures each split's WER against both texts and its similarity to both speakers (plot and WAVs as
    artifacts)."""
    import numpy as np

    n = int(threshold(spec, "n_layers"))
    tolerance = float(threshold(spec, "length_tolerance_s"))
    silence = float(threshold(spec, "silence_rms_dbfs_max"))
    for opt in spec.options:  # a malformed claim fails before any model runs
        _claim_params(spec, opt)
    codec = ctx.mimi()
    if codec.num_quantizers < n:
        raise ModelMismatch(f"q10 splits {n} code layers, but this Mimi ({codec.info.description}) has only "
                            f"{codec.num_quantizers}")
    rate = codec.sampling_rate
    paths = {who: ctx.asset(name) for who, name in CLIPS.items()}
    clips = {who: load_audio(p, rate).samples for who, p in paths.items()}
    for who in SPEAKERS:
        refuse_silence(clips[who], paths[who].name, silence)
    alice, james, trim_note = equalise_lengths(clips["alice"], clips["james"], rate, tolerance,
                                               (paths["alice"].name, paths["james"].name))
    texts = reference_texts(ctx)
    asr = ctx.model("asr").model
    encoder = ctx.model("speaker").model
    codes = codec.encode([alice, james], num_quantizers=n)  # [2, n, T]
    log.info("q10: %d splits of %d-layer codes, %d frames", n + 1, n, codes.shape[-1])
    audio, transcripts, embeddings = batched_splits(codec, asr, encoder, codes, extra_clips=[alice, james])
    decoded_t, original_t = transcripts[: n + 1], transcripts[n + 1:]
    decoded_e, original_e = embeddings[: n + 1], embeddings[n + 1:]
    notes = [f"split k: layers [0, k) from {paths['alice'].name}, [k, {n}) from {paths['james'].name}; "
             "k = 0 is pure James, k = n pure Alice"]
    if trim_note:
        notes.append(trim_note)
    source = {}
    for i, who in enumerate(SPEAKERS):
        if texts[who] is None:
            heard = " ".join(original_t[i].text.split())
            if not heard:
                raise AudioError(f"{paths[who].name}: no {TEXTS[who]} and the ASR heard nothing in the clip; "
                                 f"put its text in {TEXTS[who]}")
            texts[who] = heard
            source[who] = f"transcript of {paths[who].name}"
            notes.append(f"no {TEXTS[who]}: {who.capitalize()}'s reference text is the ASR transcript of "
                         f"{paths[who].name}: {heard!r}")
        else:
            source[who] = TEXTS[who]
        if isinstance(original_e[i], str):
            raise AudioError(f"{paths[who].name}: the speaker encoder refuses it ({original_e[i]})")
    norm = english_normalizer()
    table = wer_matrix([texts["alice"], texts["james"]], [t.text for t in decoded_t], norm)
    heard_table = wer_matrix([texts["alice"], texts["james"]], [t.text for t in original_t], norm)
    gaps = window_gaps(encoder, np.asarray(audio), rate, float(threshold(spec, "similarity_window_s")),
                       original_e[0], original_e[1])
    rows = []
    for k in range(n + 1):
        e = decoded_e[k]
        ok = not isinstance(e, str)
        rows.append(SplitRow(k=k, transcript=decoded_t[k].text, wer_alice=float(table[k][0]),
                             wer_james=float(table[k][1]),
                             sim_alice=cosine(e, original_e[0]) if ok else None,
                             sim_james=cosine(e, original_e[1]) if ok else None,
                             speaker_note=None if ok else e, asr_logprob=decoded_t[k].avg_logprob,
                             window_gaps=gaps[k]))
    m = SplitsMeasured(alice_file=paths["alice"].name, james_file=paths["james"].name, alice_text=texts["alice"],
                       james_text=texts["james"], text_source=source, seconds=len(alice) / rate,
                       frames=int(codes.shape[-1]), n_layers=n, sample_rate=rate,
                       originals_similarity=cosine(original_e[0], original_e[1]), rows=rows,
                       originals_heard={who: original_t[i].text for i, who in enumerate(SPEAKERS)},
                       originals_wer={who: float(heard_table[i][i]) for i, who in enumerate(SPEAKERS)})
    imax = float(threshold(spec, "intelligible_wer_max"))
    for who in SPEAKERS:
        if m.originals_wer[who] > imax:
            notes.append(f"the ASR itself does not recognise the original {paths[who].name} "
                         f"(WER {m.originals_wer[who]:.2f} > {imax:g}; heard {m.originals_heard[who]!r}): "
                         "a failed gate may be the ASR's fault")
    margin = float(threshold(spec, "similarity_margin"))
    notes.append(f"switch point: {switch_point(m, 'alice', margin)[1]} (by ≥ {margin:g} in similarity)")
    no_embedding = [r.k for r in rows if r.sim_alice is None]
    if no_embedding:
        notes.append(f"no speaker embedding for k={no_embedding}: {rows[no_embedding[0]].speaker_note}")
    folder = ctx.artifact_dir(spec.id)
    if folder is not None:
        notes.extend(_write_artifacts(folder, m, np.asarray(audio), spec))
    return Evidence(spec.id, m, judge(m, spec), summary(m), artifacts=str(folder) if folder else None,
                    notes=notes)


def window_gaps(encoder, audio: "np.ndarray", rate: int, window_s: float, alice, james) -> list[list[float]]:
    """Per decode (rows of ``audio``): for each consecutive window of ``window_s`` seconds, its similarity to
    Alice's original embedding minus to James's, all windows embedded in one batch. A decode whose windows cannot
    all be embedded (silence, too short) gets no windows: the whole-clip numbers stand alone for it."""
    spans = windows(audio.shape[1], int(round(window_s * rate)))
    if len(spans) < 2:  # one window is the whole clip again
        return [[] for _ in audio]
    embedded = embed_each(encoder, [x[s] for x in audio for s in spans], rate)
    out = []
    for i in range(len(audio)):
        mine = embedded[i * len(spans):(i + 1) * len(spans)]
        out.append([] if any(isinstance(e, str) for e in mine) else
                   [cosine(e, alice) - cosine(e, james) for e in mine])
    return out


def _write_artifacts(folder, m: SplitsMeasured, audio: "np.ndarray", spec) -> list[str]:
    ks = [r.k for r in m.rows]
    blocked = gate(m, spec)
    plot_splits(folder / "q10_splits.png", ks,
                {"Alice": [r.sim_alice for r in m.rows], "James": [r.sim_james for r in m.rows]},
                {"Alice": [r.wer_alice for r in m.rows], "James": [r.wer_james for r in m.rows]},
                {"intelligible ≤": float(threshold(spec, "intelligible_wer_max")),
                 "unclear ≥": float(threshold(spec, "unclear_wer_min"))},
                f"q10: layers [0, k) from {m.alice_file}, [k, {m.n_layers}) from {m.james_file}"
                + ("\nNOT MEANINGFUL: the pure k=0/k=8 decodes fail the gate" if blocked else ""))
    gains = {f"split_k{r.k}.wav": write_wav(folder / f"split_k{r.k}.wav", x, m.sample_rate)
             for r, x in zip(m.rows, audio)}
    return scaling_note(gains)
