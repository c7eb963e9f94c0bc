"""Property test: random NTU COOL exports are read and graded without losing anyone, by the rule."""
import csv
import io
from fractions import Fraction

import pytest
from conftest import SAMPLE_CORRECT, make_key
from exportkit import INFO, Row, export_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.readers.formats import read_submissions
from grader.sheet import grade_roster


def expected_points(spec, correct, selected):
    sel, cor = set(selected), set(correct)
    if not sel:
        return Fraction(0)
    if spec.kind == "single":
        return spec.points_exact if len(sel) == 1 and sel <= cor else Fraction(0)
    return max(Fraction(0), (len(sel & cor) - len(sel - cor)) * spec.points_exact / len(cor))


@st.composite
def exports(draw, bank):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        attempts = draw(st.integers(1, 3))
        # one person per id (rows of one id with different names are refused: tests/grader/test_identity.py)
        name = draw(st.sampled_from(["陳怡君", "O'Neil, Pat", '=cmd|"x"', "<b>x</b>", "Li \"Q\" Wu", "  "]))
        for a in range(attempts, 0, -1):  # newest first
            answers = {}
            for spec in bank:
                if spec.kind == "single":
                    pick = draw(st.one_of(st.none(), st.sampled_from(spec.letters)))
                    if pick:
                        answers[spec.id] = [pick]
                else:
                    answers[spec.id] = draw(st.lists(st.sampled_from(spec.letters), unique=True, max_size=4))
            rows.append(Row(str(1000 + i), name=name, attempt=a, answers=answers))
    order = draw(st.permutations(bank.ids))
    optional = draw(st.sets(st.sampled_from(["sis_id", "root_account", "section_sis_id"])))
    info = [c for c in INFO if c not in {"sis_id", "root_account", "section_sis_id"} or c in optional]
    escape = draw(st.booleans())
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    return rows, list(order), info, escape, quoting


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@pytest.mark.slow
@given(data=st.data())
def test_random_exports_lose_nobody_and_score_by_the_rule(tmp_path, bank, data):
    rows, order, info, escape, quoting = data.draw(exports(bank))
    text = export_text(bank, rows, order=order, info=info, escape=escape)
    if quoting == csv.QUOTE_ALL:
        parsed = list(csv.reader(io.StringIO(text)))
        buf = io.StringIO()
        csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(parsed)
        text = buf.getvalue()
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    key = make_key(bank)
    sheet = grade_roster(read_submissions(path, bank), bank, key)
    ids = [r.id for r in rows]
    assert [r.student_id for r in sheet.results] == list(dict.fromkeys(ids))  # everyone, once, in order
    latest = {}
    for r in rows:
        if r.id not in latest or r.attempt > latest[r.id].attempt:
            latest[r.id] = r
    for res in sheet.results:
        assert res.status == "ok", res.notes
        total = Fraction(0)
        for spec in bank:
            got = res.scores[spec.id].points
            want = expected_points(spec, SAMPLE_CORRECT[spec.id], latest[res.student_id].answers.get(spec.id, []))
            assert got == want and 0 <= got <= spec.points_exact
            total += got
        assert res.total == total
