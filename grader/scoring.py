"""The course's scoring rule, as pure functions on exact fractions.

single: full points iff exactly one option is selected and it is accepted; else 0.
multi:  with c correct options, t of them selected and f wrong ones selected,
        max(0, (t - f) * points / c); nothing selected scores 0.
Regrade policies: ``also_accept`` (single), ``drop`` (multi), ``full_credit`` (both).
The batch grader and the student self-check both call :func:`score_question`.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Iterable

from .key import KeyAnswer, Policy
from .spec import QuestionSpec


@dataclass(frozen=True)
class QuestionScore:
    """One student's result on one question."""

    qid: str
    selected: tuple[str, ...]
    """Selected letters in letter order; empty = blank."""
    points: Fraction | None
    """Points earned; None when the question is not graded (pending in the key)."""
    max_points: Fraction
    correct: tuple[str, ...]
    """The key's correct letters (after policy), for feedback."""
    true_selected: int = 0
    false_selected: int = 0

    @property
    def graded(self) -> bool:
        return self.points is not None


def score_question(spec: QuestionSpec, answer: KeyAnswer, selected: Iterable[str]) -> QuestionScore:
    """One student's score on one question: pending or in review → not graded; ``full_credit`` → full points;
    single-answer → full points iff exactly one accepted option is chosen; multi-answer → (right − wrong) × points /
    correct, floored at 0 (dropped options count neither way)."""
    sel = tuple(sorted(set(selected)))
    unknown = [s for s in sel if s not in spec.letters]
    if unknown:
        raise ValueError(f"{spec.id}: unknown option(s) {unknown}")
    pts = spec.points_exact
    policy = answer.policy or Policy()
    if not answer.graded:  # pending, or waiting for a TA's review
        return QuestionScore(spec.id, sel, None, pts, ())
    correct = tuple(sorted(set(answer.correct) - set(policy.drop)))
    if policy.full_credit:
        return QuestionScore(spec.id, sel, pts, pts, correct)
    if spec.kind == "single":
        accepted = set(correct) | set(policy.also_accept)
        ok = len(sel) == 1 and sel[0] in accepted
        return QuestionScore(spec.id, sel, pts if ok else Fraction(0), pts, tuple(sorted(accepted)),
                             true_selected=int(ok), false_selected=int(bool(sel) and not ok))
    c = len(correct)
    t = sum(1 for s in sel if s in correct)
    f = sum(1 for s in sel if s not in correct and s not in policy.drop)
    earned = max(Fraction(0), Fraction(t - f) * pts / c)
    return QuestionScore(spec.id, sel, earned, pts, correct, true_selected=t, false_selected=f)


@lru_cache(maxsize=1 << 14)
def fmt_points(value: Fraction | None, decimals: int = 4) -> str:
    """Round half up to ``decimals`` places and drop trailing zeros (``0.8``, ``0.3333``, ``10``). (Cached: a class
    has few distinct scores and totals, and every output writes each of them.)"""
    if value is None:
        return ""
    q = Decimal(1).scaleb(-decimals)
    d = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(q, rounding=ROUND_HALF_UP)
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
