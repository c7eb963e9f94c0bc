"""Item analysis as Canvas defines it, extended to multiple-answers items and KR-20/alpha.

Groups: top / middle / bottom 27 / 46 / 27 % of students by total score (ties broken by input
order, so results are deterministic). Difficulty = mean share of the item's points earned
(proportion correct for single-answer items). Discrimination: point-biserial between the item
score and the rest of the test (total minus the item), and upper − lower difference.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from operator import attrgetter, itemgetter
from typing import Callable

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
    order = sorted(range(n), key=scaled.__getitem__, reverse=True)  # a reversed sort keeps ties in input order
    return order[:k], order[n - k:] if k else []


@dataclass
class _Selection:
    """The students of one question who made the same selection (they share one score): how many, how many of them
    are in the top and bottom groups, and the sums of their centred totals and of those squared."""

    score: object
    count: int = 0
    upper: int = 0
    lower: int = 0
    centred: float = 0.0
    centred_sq: float = 0.0


def _selections(scores: list, by_total: list[tuple[float, Callable[[list], tuple]]], mean: float,
                upper: list[int], lower: list[int]) -> dict[tuple[str, ...], _Selection]:
    """One question's students grouped by selection. Counted in C: the scores of the students of each total
    (``by_total``: :func:`_by_total`; a class has few distinct totals and scores) and of the top and bottom groups;
    the Python work is per distinct (total, score), in the order of the totals (the same sums for any order of the
    rows)."""
    score_of = dict(zip(map(id, scores), scores))
    out: dict[tuple[str, ...], _Selection] = {}
    for sc in score_of.values():
        out.setdefault(sc.selected, _Selection(sc))
    for total, students in by_total:
        d = total - mean
        for sid, count in Counter(map(id, students(scores))).items():
            g = out[score_of[sid].selected]
            g.count += count
            g.centred += count * d
            g.centred_sq += count * d * d
    for band, attr in ((upper, "upper"), (lower, "lower")):
        for sid, count in Counter(map(id, map(scores.__getitem__, band))).items():
            g = out[score_of[sid].selected]
            setattr(g, attr, getattr(g, attr) + count)
    return out


def _by_total(tot_f: list[float]) -> list[tuple[float, Callable[[list], tuple]]]:
    """Each distinct total, ascending, with what picks its students' entries out of a per-student list."""
    members: dict[float, list[int]] = {}
    for i, t in enumerate(tot_f):
        members.setdefault(t, []).append(i)
    return [(t, itemgetter(*idx) if len(idx) > 1 else lambda items, i=idx[0]: (items[i],))
            for t, idx in sorted(members.items())]


def _option_pb(chosen: int, centred_sum: float, n: int, ss: float) -> float | None:
    """Point-biserial of choosing an option (``chosen`` of ``n`` students, whose centred totals sum to
    ``centred_sum``) with the totals (sum of squared centred totals ``ss``): Pearson's r of a 0/1 variable."""
    if n < 2:
        return None
    sxx = chosen * (n - chosen) / n
    if sxx <= 1e-12 or ss <= 1e-12:
        return None
    return centred_sum / math.sqrt(sxx * ss)


def _item_rest_pb(chosen: dict[tuple[str, ...], _Selection], value: dict[tuple[str, ...], tuple[float, float]],
                  n: int) -> float | None:
    """Point-biserial of the item score with the rest of the test (the total minus the item's points), from the
    selections: within one selection the item score is one value and the rest is the centred total shifted by one
    value, so every sum of Pearson's correlation over students is a sum over selections."""
    if n < 2:
        return None
    mean_f = sum(g.count * value[s][1] for s, g in chosen.items()) / n
    mean_p = sum(g.count * value[s][0] for s, g in chosen.items()) / n
    sxx = syy = sxy = 0.0
    for s, g in chosen.items():
        x = value[s][1] - mean_f
        a = value[s][0] - mean_p  # rest − its mean = centred total − a
        sxx += g.count * x * x
        syy += g.centred_sq - 2 * a * g.centred + g.count * a * a
        sxy += x * (g.centred - g.count * a)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sxy / math.sqrt(sxx * syy)


def _grouped_var(pairs: list[tuple[int, float]], n: int) -> float:
    """The variance over ``n`` students of values given as (how many, value) pairs."""
    if n == 0:
        return 0.0
    m = sum(c * v for c, v in pairs) / n
    return sum(c * (v - m) ** 2 for c, v in pairs) / n


def analyse(sheet: ScoreSheet) -> QuizStats:
    """Item analysis of the graded questions: per item difficulty, discrimination (point-biserial against the rest,
    upper − lower), option shares and key-error flags; for the quiz KR-20, alpha, mean, median and spread of totals.

    Item and option statistics are sums over the distinct selections of a question (a class has few), not over
    students; KR-20 counts each student's fully right items with one byte per student and item."""
    results = sheet.results
    n = len(results)
    graded = sheet.graded_ids
    totals = [r.total for r in results]
    tot_f = [float(t) for t in totals]
    upper, lower = groups(totals)
    items: list[ItemStats] = []
    mean_total = sum(tot_f) / n if n else 0.0
    ss_total = sum((t - mean_total) ** 2 for t in tot_f)  # the totals' sum of squares about their mean
    right_marks: list[bytes] = []  # per item, 1 for each student with its full points
    right_counts: list[int] = []
    item_vars: list[float] = []
    all_scores = list(map(attrgetter("scores"), results))
    by_total = _by_total(tot_f)
    for qid in graded:
        spec = sheet.bank[qid]
        answer = sheet.key.answer(qid)
        pts = spec.points_exact
        scores = list(map(itemgetter(qid), all_scores))
        chosen = _selections(scores, by_total, mean_total, upper, lower)
        value = {sel: (float(g.score.points), float(g.score.points / pts)) for sel, g in chosen.items()}
        right = {sel: int(value[sel][1] >= 1.0 - 1e-12) for sel in chosen}
        right_marks.append(bytes(map(right.__getitem__, map(attrgetter("selected"), scores))))
        right_counts.append(sum(g.count for sel, g in chosen.items() if right[sel]))
        weight = float(pts)
        item_vars.append(_grouped_var([(g.count, value[sel][1] * weight) for sel, g in chosen.items()], n))
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
                point_biserial=_option_pb(k, sum(g.centred for g in with_it), n, ss_total)))
        up = sum(g.upper * value[sel][1] for sel, g in chosen.items()) / len(upper) if upper else 0.0
        lo = sum(g.lower * value[sel][1] for sel, g in chosen.items()) / len(lower) if lower else 0.0
        stats = ItemStats(
            qid=qid, kind=spec.kind, n=n,
            blank_share=chosen[()].count / n if () in chosen else 0.0,
            difficulty=sum(g.count * value[sel][1] for sel, g in chosen.items()) / n if n else 0.0,
            discrimination=_item_rest_pb(chosen, value, n),
            upper_lower=up - lo, options=opts, flags=_flags(spec.kind, opts, up - lo, answer.policy is not None
                                                          and answer.policy.full_credit))
        items.append(stats)
    k = len(graded)
    kr20 = alpha = None
    if k >= 2 and n >= 2:
        right_totals = Counter(map(sum, zip(*right_marks)))  # students by their number of fully right items
        vt = _grouped_var([(c, float(v)) for v, c in sorted(right_totals.items())], n)
        if vt > 0:
            pq = sum((c / n) * (1 - c / n) for c in right_counts)
            kr20 = k / (k - 1) * (1 - pq / vt)
        vt2 = ss_total / n
        if vt2 > 0:
            alpha = k / (k - 1) * (1 - sum(item_vars) / vt2)
    return QuizStats(n=n, items=items, kr20=kr20, alpha=alpha, mean=mean_total,
                     median=_median(tot_f), stdev=math.sqrt(ss_total / n) if n else 0.0, not_graded=sheet.pending)


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
