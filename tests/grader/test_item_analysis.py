"""Item analysis: difficulty, discrimination, KR-20, and the possible-key-error flag."""
import pytest
from conftest import SAMPLE_CORRECT, make_key

from grader.items import analyse
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
