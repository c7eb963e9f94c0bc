"""Item analysis: difficulty, discrimination, KR-20, and the possible-key-error flag."""
import functools
import math
import random
from dataclasses import replace

import pytest
from conftest import SAMPLE_CORRECT, make_key

from grader.items import analyse
from grader.key import Policy
from grader.sheet import grade_roster
from grader.submissions import Roster, Submission


def roster(subs):
    return Roster("mem.csv", "plain-csv", "utf-8", subs)


def test_perfectly_consistent_items_have_kr20_one(bank):
    # Half the class answers everything right, half everything wrong (q06/q10 all-or-nothing too).
    subs = []
    for i in range(10):
        good = i % 2 == 0
        ans = {q: tuple(c) if good else (("A",) if c != ["A"] else ("B",)) for q, c in SAMPLE_CORRECT.items()}
        if not good:
            ans["q06"], ans["q10"] = ("C",), ("B",)
        subs.append(Submission(str(i), answers=ans))
    stats = analyse(grade_roster(roster(subs), bank, make_key(bank)))
    assert stats.kr20 == pytest.approx(1.0)
    # alpha on points: item variances 10 x 0.8^2/4 + 2 x 1/4 = 2.1, total variance 25 -> 12/11 (1 - 2.1/25)
    assert stats.alpha == pytest.approx(12 / 11 * (1 - 2.1 / 25))
    assert all(it.difficulty == pytest.approx(0.5) for it in stats.items)
    assert all(it.upper_lower == pytest.approx(1.0) for it in stats.items)
    assert stats.mean == pytest.approx(5.0) and stats.median == pytest.approx(5.0)


def test_top_group_preferring_a_wrong_option_is_flagged(bank):
    subs = []
    for i in range(30):
        strong = i < 10
        ans = {q: tuple(c) for q, c in SAMPLE_CORRECT.items()} if strong else {}
        if strong:
            ans["q02"] = ("D",)  # the strong students agree on D: maybe the key (C) is wrong
        elif i < 20:
            ans["q02"] = ("C",)
        subs.append(Submission(str(i), answers=ans))
    stats = analyse(grade_roster(roster(subs), bank, make_key(bank)))
    q02 = next(it for it in stats.items if it.qid == "q02")
    assert any("top group prefers D" in f for f in q02.flags)
    assert q02.discrimination is not None and q02.discrimination < 0
    opt_d = next(o for o in q02.options if o.letter == "D")
    assert opt_d.share == pytest.approx(1 / 3) and opt_d.share_upper > 0.9
    assert not any(it.flags for it in stats.items if it.qid == "q01")


def test_multi_option_keyed_wrong_but_chosen_by_the_top_group(bank):
    subs = []
    for i in range(20):
        strong = i < 8
        ans = {q: tuple(c) for q, c in SAMPLE_CORRECT.items()} if strong else {"q06": ("A",)}
        if strong:
            ans["q06"] = ("A", "B", "D", "E", "G")
        subs.append(Submission(str(i), answers=ans))
    stats = analyse(grade_roster(roster(subs), bank, make_key(bank)))
    q06 = next(it for it in stats.items if it.qid == "q06")
    assert any(f.startswith("G is keyed wrong") for f in q06.flags)


def test_pending_items_are_left_out(bank):
    subs = [Submission(str(i), answers={"q01": ("B",) if i % 2 else ("A",)}) for i in range(6)]
    stats = analyse(grade_roster(roster(subs), bank, make_key(bank, pending=("q05", "q06"))))
    assert [it.qid for it in stats.items if it.qid in ("q05", "q06")] == []
    assert stats.not_graded == ["q05", "q06"]


def _pearson(x, y):
    n = len(x)
    if n < 2:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxx, syy = sum((a - mx) ** 2 for a in x), sum((b - my) ** 2 for b in y)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / math.sqrt(sxx * syy)


def _var(x):
    m = sum(x) / len(x)
    return sum((a - m) ** 2 for a in x) / len(x)


def reference(sheet):
    """Item analysis the plain way, student by student (what analyse() computes from the distinct selections)."""
    results, graded = sheet.results, sheet.graded_ids
    n = len(results)
    tot = [float(r.total) for r in results]
    order = sorted(range(n), key=lambda i: (-tot[i], i))
    k = max(1, round(n * 0.27))
    upper, lower = order[:k], order[n - k:]
    items, frac_of = {}, {}
    for q in graded:
        pts = sheet.bank[q].points_exact
        sc = [r.scores[q] for r in results]
        frac = [float(s.points / pts) for s in sc]
        frac_of[q] = frac
        rest = [t - float(s.points) for t, s in zip(tot, sc)]
        options = {}
        for letter in sheet.bank[q].letters:
            chose = [1.0 if letter in s.selected else 0.0 for s in sc]
            options[letter] = (sum(chose) / n, sum(chose[i] for i in upper) / k, sum(chose[i] for i in lower) / k,
                               _pearson(chose, tot))
        items[q] = (sum(frac) / n, _pearson(frac, rest),
                    sum(frac[i] for i in upper) / k - sum(frac[i] for i in lower) / k,
                    sum(1 for s in sc if not s.selected) / n, options)
    right = {q: [1.0 if f >= 1 - 1e-12 else 0.0 for f in frac_of[q]] for q in graded}
    right_tot = [sum(row) for row in zip(*right.values())]
    pq = sum(sum(right[q]) / n * (1 - sum(right[q]) / n) for q in graded)
    kr20 = len(graded) / (len(graded) - 1) * (1 - pq / _var(right_tot)) if _var(right_tot) > 0 else None
    item_var = sum(_var([f * float(sheet.bank[q].points_exact) for f in frac_of[q]]) for q in graded)
    alpha = len(graded) / (len(graded) - 1) * (1 - item_var / _var(tot))
    return items, kr20, alpha, _var(tot) ** 0.5


@pytest.mark.parametrize("seed", range(6))
def test_item_analysis_equals_the_plain_student_by_student_computation(bank, seed):
    """analyse() sums over the distinct selections and totals of a class, in C where it can: every statistic equals
    the plain per-student formulas (to rounding), for random classes with blanks, several choices, a pending
    question and a policy, and for a sheet put together from two gradings (one selection, two score objects)."""
    rng = random.Random(seed)
    letters = {q: bank[q].letters for q in bank.ids}

    def student(i):
        ans = {}
        for q, opts in letters.items():
            r = rng.random()
            if r < 0.1:
                continue  # blank
            if bank[q].kind == "multi" or r < 0.15:
                ans[q] = tuple(sorted(rng.sample(opts, rng.randint(1, 3))))
            else:
                ans[q] = (SAMPLE_CORRECT[q][0],) if r < 0.6 else (rng.choice(opts),)
        return Submission(f"s{i}", answers=ans)

    key = make_key(bank, pending=("q05",) if seed % 2 else (), policies={"q07": Policy(also_accept=["D"])})
    size = rng.randint(2, 300)
    sheet = grade_roster(roster([student(i) for i in range(size)]), bank, key)
    if seed >= 4:  # a second grading's score objects for the same selections
        more = grade_roster(roster([student(i) for i in range(size, 2 * size)]), bank, key)
        sheet = replace(sheet, results=sheet.results + more.results)
    stats = analyse(sheet)
    items, kr20, alpha, stdev = reference(sheet)
    approx = functools.partial(pytest.approx, rel=1e-9, abs=1e-12)
    assert [it.qid for it in stats.items] == list(items)
    for it in stats.items:
        difficulty, discrimination, upper_lower, blank, options = items[it.qid]
        assert (it.difficulty, it.upper_lower, it.blank_share) == approx((difficulty, upper_lower, blank))
        assert (it.discrimination is None) == (discrimination is None)
        if discrimination is not None:
            assert it.discrimination == approx(discrimination)
        for o in it.options:
            share, up, lo, pb = options[o.letter]
            assert (o.share, o.share_upper, o.share_lower) == approx((share, up, lo))
            assert (o.point_biserial is None) == (pb is None) and (pb is None or o.point_biserial == approx(pb))
    assert (stats.kr20 is None) == (kr20 is None) and (kr20 is None or stats.kr20 == approx(kr20))
    assert stats.alpha == approx(alpha) and stats.stdev == approx(stdev)
