"""Item analysis as Canvas defines it, extended to multiple-answers items and KR-20/alpha.

Groups: top / middle / bottom 27 / 46 / 27 % of students by total score (ties broken by input
order, so results are deterministic). Difficulty = mean share of the item's points earned
(proportion correct for single-answer items). Discrimination: point-biserial between the item
score and the rest of the test (total minus the item), and upper − lower difference.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from .sheet import ScoreSheet

GROUP_SHARE = 0.27


@dataclass(frozen=True)
class OptionStats:
    letter: str
    keyed_correct: bool
    """The key marks this option correct (accepted, for single-answer items)."""
    share: float
    """Share of all students selecting it."""
    share_upper: float
    share_lower: float
    point_biserial: float | None
    """Correlation between selecting it and the total score."""


@dataclass(frozen=True)
class ItemStats:
    qid: str
    kind: str
    n: int
    blank_share: float
    difficulty: float
    discrimination: float | None
    """Point-biserial of item score vs rest score (None when undefined: no variance)."""
    upper_lower: float
    """Mean item share in the top 27 % minus the bottom 27 %."""
    options: list[OptionStats]
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QuizStats:
    n: int
    items: list[ItemStats]
    kr20: float | None
    """KR-20 on items scored right (full points) / wrong."""
    alpha: float | None
    """Cronbach's alpha on the partial-credit item scores."""
    mean: float
    median: float
    stdev: float
    not_graded: list[str]


def _pearson(x: list[float], y: list[float]) -> float | None:
    n = len(x)
    if n < 2:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    return sxy / math.sqrt(sxx * syy)


class _Centred:
    """The totals centred once: each option's point-biserial is a sum of them (:func:`_option_pb`)."""

    def __init__(self, y: list[float]):
        n = len(y)
        my = sum(y) / n if n else 0.0
        self.d = [b - my for b in y]
        self.ss = sum(b * b for b in self.d)


def _var(x: list[float]) -> float:
    n = len(x)
    if n == 0:
        return 0.0
    m = sum(x) / n
    return sum((a - m) ** 2 for a in x) / n


def _median(x: list[float]) -> float:
    s = sorted(x)
    n = len(s)
    if n == 0:
        return 0.0
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def groups(totals: list[Fraction]) -> tuple[list[int], list[int]]:
    """Indices of the top and bottom 27 % (at least one student each when n >= 2)."""
    n = len(totals)
    k = max(1, round(n * GROUP_SHARE)) if n >= 2 else 0
    # exact order on integers over a common denominator (comparing Fractions is the slow part at 100,000)
    common = math.lcm(*{t.denominator for t in totals}) if totals else 1
    scaled = [t.numerator * (common // t.denominator) for t in totals]
    order = sorted(range(n), key=lambda i: (-scaled[i], i))
    return order[:k], order[n - k:] if k else []


@dataclass
class _Selection:
    """The students of one question who made the same selection (they share one score): how many, how many of them
    are in the top and bottom groups, and the sum of their centred totals."""

    score: object
    count: int = 0
    upper: int = 0
    lower: int = 0
    centred: float = 0.0


def _selections(scores: list, band: bytes, centred: list[float]) -> dict[tuple[str, ...], _Selection]:
    """One question's students grouped by selection (``band``: 1 top group, 2 bottom group, 0 neither)."""
    out: dict[tuple[str, ...], _Selection] = {}
    for sc, b, d in zip(scores, band, centred):
        g = out.get(sc.selected)
        if g is None:
            g = out[sc.selected] = _Selection(sc)
        g.count += 1
        g.centred += d
        if b == 1:
            g.upper += 1
        elif b == 2:
            g.lower += 1
    return out


def _option_pb(chosen: int, centred_sum: float, n: int, ss: float) -> float | None:
    """Point-biserial of choosing an option (``chosen`` of ``n`` students, whose centred totals sum to
    ``centred_sum``) with the totals (sum of squared centred totals ``ss``): :func:`_pearson` for a 0/1 variable."""
    if n < 2:
        return None
    sxx = chosen * (n - chosen) / n
    if sxx <= 1e-12 or ss <= 1e-12:
        return None
    return centred_sum / math.sqrt(sxx * ss)


def analyse(sheet: ScoreSheet) -> QuizStats:
    """Item analysis of the graded questions: per item difficulty, discrimination (point-biserial against the rest,
    upper − lower), option shares and key-error flags; for the quiz KR-20, alpha, mean, median and spread of totals.

    Option statistics are sums over the distinct selections of a question (a class has few), not over students."""
    results = sheet.results
    n = len(results)
    graded = sheet.graded_ids
    totals = [r.total for r in results]
    tot_f = [float(t) for t in totals]
    upper, lower = groups(totals)
    band = bytearray(n)
    for i in upper:
        band[i] = 1
    for i in lower:
        band[i] = 2
    band = bytes(band)
    items: list[ItemStats] = []
    item_scores: dict[str, list[float]] = {}
    against_totals = _Centred(tot_f)
    for qid in graded:
        spec = sheet.bank[qid]
        answer = sheet.key.answer(qid)
        pts = spec.points_exact
        scores = [r.scores[qid] for r in results]
        chosen = _selections(scores, band, against_totals.d)
        as_float = {sel: (float(g.score.points), float(g.score.points / pts)) for sel, g in chosen.items()}
        points = [as_float[sc.selected][0] for sc in scores]
        frac = [as_float[sc.selected][1] for sc in scores]
        item_scores[qid] = frac
        rest = [t - p for t, p in zip(tot_f, points)]
        keyed = set(scores[0].correct) if results else set(answer.correct)
        opts = []
        for letter in spec.letters:
            with_it = [g for sel, g in chosen.items() if letter in sel]
            k = sum(g.count for g in with_it)
            opts.append(OptionStats(
                letter=letter, keyed_correct=letter in keyed,
                share=k / n if n else 0.0,
                share_upper=sum(g.upper for g in with_it) / len(upper) if upper else 0.0,
                share_lower=sum(g.lower for g in with_it) / len(lower) if lower else 0.0,
                point_biserial=_option_pb(k, sum(g.centred for g in with_it), n, against_totals.ss)))
        up = sum(g.upper * as_float[sel][1] for sel, g in chosen.items()) / len(upper) if upper else 0.0
        lo = sum(g.lower * as_float[sel][1] for sel, g in chosen.items()) / len(lower) if lower else 0.0
        stats = ItemStats(
            qid=qid, kind=spec.kind, n=n,
            blank_share=chosen[()].count / n if () in chosen else 0.0,
            difficulty=sum(frac) / n if n else 0.0, discrimination=_pearson(frac, rest),
            upper_lower=up - lo, options=opts, flags=_flags(spec.kind, opts, up - lo, answer.policy is not None
                                                          and answer.policy.full_credit))
        items.append(stats)
    k = len(graded)
    kr20 = alpha = None
    if k >= 2 and n >= 2:
        right = {q: [1.0 if s >= 1.0 - 1e-12 else 0.0 for s in item_scores[q]] for q in graded}
        right_tot = [sum(row) for row in zip(*right.values())]
        vt = _var(right_tot)
        if vt > 0:
            pq = sum((sum(right[q]) / n) * (1 - sum(right[q]) / n) for q in graded)
            kr20 = k / (k - 1) * (1 - pq / vt)
        vt2 = _var(tot_f)
        if vt2 > 0:
            weight = {q: float(sheet.bank[q].points_exact) for q in graded}  # once, not once per student
            item_var = sum(_var([f * weight[q] for f in item_scores[q]]) for q in graded)
            alpha = k / (k - 1) * (1 - item_var / vt2)
    return QuizStats(n=n, items=items, kr20=kr20, alpha=alpha, mean=sum(tot_f) / n if n else 0.0,
                     median=_median(tot_f), stdev=math.sqrt(_var(tot_f)), not_graded=sheet.pending)


def _flags(kind: str, opts: list[OptionStats], upper_lower: float, full_credit: bool) -> list[str]:
    """Possible key errors: the top group prefers an option the key marks wrong; negative discrimination."""
    if full_credit:
        return []
    flags = []
    if kind == "single":
        top = max(opts, key=lambda o: (o.share_upper, -ord(o.letter)))
        keyed = [o for o in opts if o.keyed_correct]
        best_keyed = max((o.share_upper for o in keyed), default=0.0)
        if not top.keyed_correct and top.share_upper > best_keyed:
            flags.append(f"top group prefers {top.letter} ({top.share_upper:.0%}) over the key's "
                         f"{'/'.join(o.letter for o in keyed)} ({best_keyed:.0%}): check the key")
    else:
        for o in opts:
            if not o.keyed_correct and o.share_upper >= 0.5 and o.share_upper > o.share_lower:
                flags.append(f"{o.letter} is keyed wrong but chosen by {o.share_upper:.0%} of the top group "
                             f"({o.share_lower:.0%} of the bottom): check the key")
            if o.keyed_correct and o.share_upper < 0.5 and o.share_upper < o.share_lower:
                flags.append(f"{o.letter} is keyed correct but chosen by only {o.share_upper:.0%} of the top group "
                             f"({o.share_lower:.0%} of the bottom): check the key")
    if upper_lower < 0:
        flags.append(f"negative discrimination (top − bottom = {upper_lower:+.2f})")
    return flags
