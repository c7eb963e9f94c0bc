"""The course's scoring rule (slides: 每個選項占分為 總分/正確選項的個數, 答對減答錯, 扣到0為止)."""
from fractions import Fraction as F

import pytest
from conftest import make_key
from hypothesis import given
from hypothesis import strategies as st

from grader.key import Policy
from grader.scoring import fmt_points, score_question


def test_single_all_or_nothing(bank):
    key = make_key(bank)
    spec, ans = bank["q01"], key.answer("q01")
    assert score_question(spec, ans, ["B"]).points == F(4, 5)
    assert score_question(spec, ans, ["A"]).points == 0
    assert score_question(spec, ans, []).points == 0
    assert score_question(spec, ans, ["A", "B"]).points == 0  # several choices on a single question


@pytest.mark.parametrize("selected, expected", [
    (["A", "B", "D", "E"], F(1)),          # all four correct
    (["A"], F(1, 4)),
    (["A", "D"], F(1, 2)),
    (["A", "C"], F(0)),                    # one right, one wrong
    (["A", "B", "C"], F(1, 4)),            # 2 - 1 = 1 quarter
    (["C", "F", "G", "H"], F(0)),          # clamped at 0, never negative
    (["A", "B", "C", "D", "E", "F", "G", "H"], F(0)),  # everything: 4 - 4
    ([], F(0)),
])
def test_multi_net_correct_q06(bank, selected, expected):
    key = make_key(bank)
    assert score_question(bank["q06"], key.answer("q06"), selected).points == expected


def test_multi_thirds_are_exact(bank):
    key = make_key(bank)  # q10 has three correct options: A, C, F
    s = score_question(bank["q10"], key.answer("q10"), ["A", "F"])
    assert s.points == F(2, 3) and s.true_selected == 2 and s.false_selected == 0
    assert fmt_points(s.points) == "0.6667"
    assert fmt_points(s.points, 2) == "0.67"


def test_pending_is_not_graded(bank):
    key = make_key(bank, pending=("q05",))
    s = score_question(bank["q05"], key.answer("q05"), ["A"])
    assert s.points is None and not s.graded


def test_policies(bank):
    key = make_key(bank, policies={"q02": Policy(also_accept=["D"]), "q06": Policy(drop=["E"]),
                                   "q07": Policy(full_credit=True)})
    assert score_question(bank["q02"], key.answer("q02"), ["D"]).points == F(4, 5)
    assert score_question(bank["q02"], key.answer("q02"), ["C"]).points == F(4, 5)
    assert score_question(bank["q02"], key.answer("q02"), ["A"]).points == 0
    # q06 with E dropped: c = 3 (A, B, D); selecting E neither helps nor hurts.
    assert score_question(bank["q06"], key.answer("q06"), ["A", "E"]).points == F(1, 3)
    assert score_question(bank["q06"], key.answer("q06"), ["A", "B", "D"]).points == F(1)
    assert score_question(bank["q07"], key.answer("q07"), []).points == F(4, 5)


def test_totals_add_up_to_ten(bank):
    key = make_key(bank)
    total = sum(score_question(s, key.answer(s.id), key.answer(s.id).correct).points for s in bank)
    assert total == 10


@given(st.data())
def test_multi_rule_property(bank, data):
    """Against a brute re-statement of the slides' rule over every possible key and selection."""
    spec = bank[data.draw(st.sampled_from(["q06", "q10"]))]
    letters = spec.letters
    correct = data.draw(st.lists(st.sampled_from(letters), min_size=1, unique=True))
    selected = data.draw(st.lists(st.sampled_from(letters), unique=True))
    key = make_key(bank, correct={**{q: ["A"] for q in bank.ids}, spec.id: correct})
    got = score_question(spec, key.answer(spec.id), selected).points
    per_option = spec.points_exact / len(correct)
    right = sum(1 for x in selected if x in correct)
    expected = per_option * right - per_option * (len(selected) - right)
    assert got == max(F(0), expected)
    assert 0 <= got <= spec.points_exact


def test_rounding_half_up():
    assert fmt_points(F(1, 8), 2) == "0.13"
    assert fmt_points(F(10)) == "10"
    assert fmt_points(F(0)) == "0"
    assert fmt_points(F(37, 10)) == "3.7"
    assert fmt_points(None) == ""
