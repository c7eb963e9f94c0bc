"""The student self-check gives exactly the TA's batch score for the same answers and key."""
import csv
import io

import pytest

from conftest import SAMPLE
from grader import selfcheck
from grader.cli import main
from grader.errors import InputError
from grader.readers import read_submissions
from grader.scoring import fmt_points
from grader.sheet import choose_attempt


@pytest.fixture(scope="module")
def batch(tmp_path_factory, bank):
    out = tmp_path_factory.mktemp("batch")
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(SAMPLE / "key.yaml"), "--out", str(out)]) == 0
    text = (out / "scores.csv").read_bytes().decode("utf-8-sig")
    return {r["id"]: r for r in csv.DictReader(io.StringIO(text))}


def test_selfcheck_equals_batch_score_for_every_sample_student(bank, batch):
    from grader.key import load_key

    key = load_key(SAMPLE / "key.yaml", bank)
    roster = read_submissions(SAMPLE / "export.csv", bank)
    groups = {}
    for sub in roster.submissions:
        sub.order = len(groups.setdefault(sub.student_id, []))
        groups[sub.student_id].append(sub)
    for sid, group in groups.items():
        chosen = choose_attempt(group, "latest", bank, key)
        answers = {q: list(v) for q, v in chosen.answers.items()}  # what the student would type in
        result = selfcheck(answers, key=key, bank=bank)
        assert fmt_points(result.total) == batch[sid]["total"], sid
        for row in result.rows:
            assert fmt_points(row.points) == batch[sid][row.qid], (sid, row.qid)


def test_selfcheck_reads_letters_like_students_type_them(bank):
    r = selfcheck({"q01": "b", 6: "A;B", "q10": "AF"}, key=SAMPLE / "key.yaml", bank=bank)
    assert fmt_points(r.total) == "1.9667"
    assert [row.yours for row in r.rows if row.qid in ("q01", "q06", "q10")] == [("B",), ("A", "B"), ("A", "F")]
    html = r._repr_html_()
    assert "<table" in html and "1.9667" in html and "q06" in html


def test_selfcheck_refuses_unknown_questions_and_flags_bad_letters(bank):
    with pytest.raises(InputError, match="unknown question"):
        selfcheck({"q13": "A"}, key=SAMPLE / "key.yaml", bank=bank)
    r = selfcheck({"q02": "Z"}, key=SAMPLE / "key.yaml", bank=bank)
    assert "not an option" in next(row.problem for row in r.rows if row.qid == "q02")
