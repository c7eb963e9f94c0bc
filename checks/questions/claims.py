"""Small pure building blocks for judging options: a thresholded comparison with an undecided band, an
option made of several clauses, and the multi-answer decision.

* :func:`at_least` — ``value ≥ threshold`` decided only outside ``± band`` around the threshold.
* :func:`combine` — an option whose text makes several claims (e.g. "X reconstructs worst, *showing* Y")
  is true when every clause is, false when any clause is, otherwise undecided; each clause keeps its
  own evidence line.
* :func:`agree` — one claim measured several independent ways (PESQ and ESTOI, two spectral distances): decided
  only when every measure decides it the same way.
* :func:`decide_multi` — multi-answer questions: every claim decided, the true ones are the answer.
* :func:`complementary` — claims that say opposite things (``claim.complement`` in the spec, both ways) are
  decided together: one true and one false, or neither decided.

Nothing here imports numpy or torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from checks.evidence import Decision, OptionVerdict, SpecError, Verdict


@dataclass(frozen=True)
class Clause:
    """One checkable part of an option's text."""

    name: str
    """Short name, e.g. ``worst`` or ``because``."""
    verdict: Verdict
    why: str
    """The measured value and what it was compared with."""
    margin: float | None = None
    """Signed distance to the threshold, positive on the verdict's safe side (as in :class:`OptionVerdict`)."""


def at_least(value: float | None, threshold: float, band: float) -> tuple[Verdict, float | None]:
    """``value ≥ threshold``: ``true`` when ``value ≥ threshold + band``, ``false`` when ``value < threshold −
    band``, else ``undecided``. The margin is ``|value − threshold|`` (distance on the verdict's side; for an
    undecided verdict the signed ``value − threshold``). ``None`` value → undecided, no margin."""
    if value is None:
        return "undecided", None
    diff = float(value) - float(threshold)
    if diff >= band:
        return "true", diff
    if diff < -band:
        return "false", -diff
    return "undecided", diff


def combine(clauses: Sequence[Clause]) -> OptionVerdict:
    """All clauses true → true (margin: the smallest); any false → false (margin: the firmest refutation);
    otherwise undecided. ``why`` lists every clause."""
    if not clauses:
        return OptionVerdict("undecided", "no clause to check")
    why = "; ".join(f"[{c.name}: {c.verdict}] {c.why}" for c in clauses)
    false = [c for c in clauses if c.verdict == "false"]
    if false:
        margins = [c.margin for c in false if c.margin is not None]
        return OptionVerdict("false", why, max(margins) if margins else None)
    if all(c.verdict == "true" for c in clauses):
        margins = [c.margin for c in clauses if c.margin is not None]
        return OptionVerdict("true", why, min(margins) if margins else None)
    return OptionVerdict("undecided", why, lean=_lean(clauses))


def _lean(clauses: Sequence[Clause]) -> Verdict | None:
    """The side an undecided conjunction falls on: an undecided clause's signed margin (:func:`at_least`) gives
    its side; any clause leaning false makes it lean false, all leaning true (or true) make it lean true."""
    sides = []
    for c in clauses:
        if c.verdict == "true":
            sides.append("true")
        elif c.verdict == "undecided" and c.margin is not None:
            sides.append("true" if c.margin >= 0 else "false")
        else:
            sides.append(None)
    if "false" in sides:
        return "false"
    return "true" if all(x == "true" for x in sides) else None


def agree(name: str, measures: Sequence[Clause]) -> Clause:
    """One claim judged by several independent ``measures`` (each a :class:`Clause` with its own threshold and
    band; the first is the primary one, whose margin the verdict keeps). Decided only when every measure decides
    it and they all say the same; when two decided measures say opposite things the claim is undecided with no
    lean (the measures disagree: a listener decides); when some measure is undecided (inside its band, or not
    measurable) and the decided ones agree, it is undecided leaning their way.

    >>> t, f = Clause("pesq", "true", "PESQ 3.1", 0.9), Clause("estoi", "false", "ESTOI 0.3", 0.3)
    >>> agree("good", [t, Clause("estoi", "true", "ESTOI 0.9", 0.3)]).verdict
    'true'
    >>> c = agree("good", [t, f]); (c.verdict, c.margin)
    ('undecided', None)
    >>> c = agree("good", [t, Clause("estoi", "undecided", "ESTOI 0.62", 0.02)]); (c.verdict, c.margin)
    ('undecided', 0.9)
    >>> agree("good", [Clause("pesq", "undecided", "PESQ 2.25", 0.05), f]).margin is None  # leans against ESTOI
    True
    """
    if not measures:
        return Clause(name, "undecided", "nothing measured")
    why = "; ".join(f"{c.why} → {c.verdict}" for c in measures)
    if len({c.verdict for c in measures if c.verdict != "undecided"}) > 1:
        return Clause(name, "undecided", why + " — the measures disagree, so not decided")
    primary = measures[0]
    if all(c.verdict != "undecided" for c in measures):
        return Clause(name, primary.verdict, why + (" (measures agree)" if len(measures) > 1 else ""), primary.margin)
    # undecided: the signed margin carries the lean (as :func:`at_least`'s does: ≥ 0 leans true)
    if primary.verdict == "undecided" or primary.margin is None:
        side = None if primary.margin is None else "true" if primary.margin >= 0 else "false"
        if any(c.verdict not in ("undecided", side) for c in measures):
            return Clause(name, "undecided", why + " — the measures disagree, so not decided")
        return Clause(name, "undecided", why, primary.margin)
    # the primary decided, another measure is inside its band or missing: lean the primary's way
    return Clause(name, "undecided", why, primary.margin if primary.verdict == "true" else -primary.margin)


def decide_multi(verdicts: Mapping[str, OptionVerdict], letters: Sequence[str]) -> Decision:
    """Multi-answer rule: every claim must be decided (true/false); the true ones are the correct options.
    Pending when a claim is undecided or missing, or when no claim is true (a multi-answer question with
    no correct option cannot be graded)."""
    missing = [x for x in letters if x not in verdicts]
    if missing:
        return Decision("pending", (), f"no verdict for option(s) {', '.join(missing)}", None, verdicts)
    undecided = [x for x in letters if verdicts[x].verdict == "undecided"]
    if undecided:
        detail = "; ".join(f"{x}: {verdicts[x].why}" for x in undecided)
        return Decision("pending", (), f"undecided claim(s) {', '.join(undecided)}: {detail}", None, verdicts)
    true = tuple(x for x in letters if verdicts[x].verdict == "true")
    if not true:
        return Decision("pending", (), "no claim is true: a multi-answer question needs at least one correct "
                                       "option", None, verdicts)
    margins = [verdicts[x].margin for x in letters if verdicts[x].margin is not None]
    return Decision("computed", true, None, min(margins) if margins else None, verdicts)


def complement_pairs(spec) -> list[tuple[str, str]]:
    """The pairs of options whose claims name each other as ``complement`` (a :class:`SpecError` for a one-sided
    or unknown complement)."""
    named = {opt.id: getattr(opt.claim, "complement", None) for opt in spec.options if opt.claim is not None}
    pairs = []
    for a, b in named.items():
        if b is None:
            continue
        if named.get(b) != a:
            raise SpecError(f"questions/{spec.id}.yaml option {a}: complement {b!r} must be an option whose claim "
                            f"names {a} as its complement")
        if a < b:
            pairs.append((a, b))
    return pairs


def complementary(verdicts: Mapping[str, OptionVerdict], pairs: Sequence[tuple[str, str]]) -> dict[str, OptionVerdict]:
    """``verdicts`` with every complementary pair decided together: one true and one false stands; both false
    (the measure falls short of either claim's threshold, e.g. a layer gap inside the band both ways) or both
    true leaves both undecided, saying why. A pair where one is undecided stays as it is."""
    out = dict(verdicts)
    for a, b in pairs:
        va, vb = out.get(a), out.get(b)
        if va is None or vb is None or va.verdict == "undecided" or vb.verdict == "undecided":
            continue
        if va.verdict != vb.verdict:
            continue
        both = "both false: the evidence supports neither" if va.verdict == "false" else "both true: a contradiction"
        for x, v in ((a, va), (b, vb)):
            other = b if x == a else a
            out[x] = OptionVerdict("undecided", f"decided together with its complement {other} and {both} "
                                                f"(never both {va.verdict}); {v.why}")
    return out
