"""`hw10 fetch` and `hw10 upload` against a local fake NTU COOL (tests/fake_canvas.py; the real one cannot be reached
here): the report that is not ready and then is, 401/403/404, Canvas's rate limit, pagination, a student missing
from the course, the dry-run diff, the receipt, and the refusals (a pending key, another key, a second upload)."""
from __future__ import annotations

import json

import pytest
from conftest import make_key
from fake_canvas import (
    ASSIGNMENT,
    COURSE,
    OTHER_COURSE_ASSIGNMENT,
    QUIZ,
    STUDENT_TOKEN,
    TOKEN,
    CanvasState,
    graded_class,
    serve_fake_canvas,
)

from grader.errors import InputError
from grader.key import dump_key
from grader.lms.canvas.client import Canvas, CanvasError
from grader.lms.canvas.fetch import fetch_report
from grader.lms.canvas.upload import RECEIPT, upload
from hw10.cli import main


@pytest.fixture
def graded(tmp_path, bank):
    """A class of three graded with a complete key: ids 1 (8 single-answer questions right: 6.4), 2 (one: 0.8, and a
    cell hw10 cannot read: status check) and 3 (not in the course); the course has 1 (at 5.6 now), 2 (no grade
    yet) and 4 (not in the export)."""
    return graded_class(tmp_path, bank, raw={"q02": "42"})


@pytest.fixture
def cool(graded):
    export = graded[0]
    state = CanvasState(export.read_bytes(), {"1": 5.6, "2": None, "4": 3.0},
                        {"1": "王冠宇", "2": "林小美", "4": "張三"})
    with serve_fake_canvas(state) as url:
        yield state, url


def client(url: str, token: str = TOKEN, log=None) -> Canvas:
    return Canvas(url, token, sleep=lambda s: None, log=log or (lambda m: None), timeout=5)


# ----------------------------------------------------------------------------- fetch


def test_fetch_waits_for_the_report_then_saves_it_unchanged(cool, tmp_path, bank):
    state, url = cool
    said = []
    out = tmp_path / "fetched.csv"
    got = fetch_report(client(url), COURSE, QUIZ, out, progress=said.append)
    assert out.read_bytes() == state.export and got.report_id == 11 and got.includes_all_versions
    assert state.progress_polls >= 3 and any("queued" in s for s in said) and any("running" in s for s in said)
    assert "Authorization" not in "".join(state.requests)  # (the token never appears in a URL)
    key = tmp_path / "key.yaml"
    assert main(["grade", str(out), "--key", str(key), "--out", str(tmp_path / "g")]) == 0  # what grade reads


def test_fetch_never_replaces_a_file(cool, tmp_path):
    _, url = cool
    out = tmp_path / "mine.csv"
    out.write_text("my notes\n", encoding="utf-8")
    with pytest.raises(InputError, match="does not replace a file"):
        fetch_report(client(url), COURSE, QUIZ, out)
    assert out.read_text(encoding="utf-8") == "my notes\n"


@pytest.mark.parametrize("token, course, quiz, says", [
    ("bad-token-123", COURSE, QUIZ, "refused the token in CANVAS_API_TOKEN (HTTP 401: Invalid access token.)"),
    (STUDENT_TOKEN, COURSE, QUIZ, "accepted the token but its user may not do this (HTTP 401: user not authorized"),
    (TOKEN, COURSE, 6, "not found (HTTP 404: The specified resource does not exist.)"),
])
def test_fetch_refusals_are_one_clear_message(cool, tmp_path, token, course, quiz, says):
    _, url = cool
    with pytest.raises(CanvasError) as err:
        fetch_report(client(url, token), course, quiz, tmp_path / "x.csv")
    assert says in str(err.value) and token not in str(err.value)
    assert not (tmp_path / "x.csv").exists()


def test_the_rate_limit_is_waited_out(cool, tmp_path):
    state, url = cool
    state.throttle = 2
    said = []
    fetch_report(client(url, log=said.append), COURSE, QUIZ, tmp_path / "x.csv")
    assert sum("rate limit reached" in s for s in said) == 2 and (tmp_path / "x.csv").exists()
    state.throttle = 10
    with pytest.raises(CanvasError, match="HTTP 403"):
        fetch_report(client(url), COURSE, QUIZ, tmp_path / "y.csv")


def test_a_low_rate_limit_slows_the_client_down(cool, tmp_path):
    state, url = cool
    state.remaining = "40.0"
    said, slept = [], []
    c = Canvas(url, TOKEN, sleep=slept.append, log=said.append, timeout=5)
    fetch_report(c, COURSE, QUIZ, tmp_path / "x.csv")
    assert any("rate limit is low (40 left): slowing down" in s for s in said) and slept


def test_no_network_is_a_clear_error_after_retries(tmp_path):
    said = []
    with pytest.raises(CanvasError, match="cannot reach 127.0.0.1:9 .* after 3 retries"):
        fetch_report(client("http://127.0.0.1:9", log=said.append), COURSE, QUIZ, tmp_path / "x.csv")
    assert len(said) == 3


def test_the_token_comes_only_from_the_environment(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("CANVAS_API_TOKEN", raising=False)
    assert main(["fetch", "--canvas", "https://cool.ntu.edu.tw", "--course", "1", "--quiz", "2", "--out",
                 str(tmp_path / "x.csv")]) == 2
    assert "set CANVAS_API_TOKEN" in capsys.readouterr().err


# ----------------------------------------------------------------------------- upload


def test_the_dry_run_shows_the_diff_and_posts_nothing(cool, graded, monkeypatch, capsys):
    state, url = cool
    _, key, out = graded
    monkeypatch.setenv("CANVAS_API_TOKEN", TOKEN)
    assert main(["upload", "--canvas", url, "--course", str(COURSE), "--assignment", str(ASSIGNMENT), "--from",
                 str(out), "--key", str(key)]) == 0
    text = capsys.readouterr().out
    assert "assignment 'HW10 Speech Generation' (10 points)" in text
    assert "1 王冠宇: 5.6 → 6.4" in text and "2 林小美: (no grade) → 0.8" in text
    assert "in scores.csv but not in the course (1, not posted): 3 陳大文" in text
    assert "in the course but not in scores.csv (1, left as they are): 4 張三" in text
    assert "status 'check' in scores.csv (1: a cell could not be read; see report.html before posting): 2" in text
    assert "dry run: nothing was posted" in text and state.posts == [] and not (out / RECEIPT).exists()
    assert TOKEN not in text


def test_posting_writes_a_receipt_and_a_second_post_needs_force(cool, graded, bank):
    state, url = cool
    _, key, out = graded
    plan, receipt = upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True)
    assert len(state.posts) == 1
    posted = state.posts[0]
    assert posted == {"grade_data[1][posted_grade]": ["6.4"], "grade_data[2][posted_grade]": ["0.8"]}
    assert state.grades == {"1": 6.4, "2": 0.8, "4": 3.0}  # 4 untouched, 3 never posted
    saved = json.loads((out / RECEIPT).read_text(encoding="utf-8"))
    assert saved == receipt and saved["who"]["name"] == "TA Lin" and saved["progress_state"] == "completed"
    assert [(p["id"], p["old"], p["new"], p["went_through"]) for p in saved["posted"]] == [
        ("1", "5.6", "6.4", True), ("2", None, "0.8", True)]
    assert saved["not_in_course"] == ["3"] and len(saved["key_sha256"]) == 64 and TOKEN not in json.dumps(saved)
    with pytest.raises(InputError, match="already posted"):
        upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True)
    plan, again = upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True, force=True)
    assert again["posted"] == [] and again["progress_state"] == "nothing to post"  # Canvas already shows them
    # the receipt is hw10's: the folder can still be graded into again, and the record of the upload stays
    export = graded[0]
    assert main(["grade", str(export), "--key", str(key), "--out", str(out)]) == 0
    assert json.loads((out / RECEIPT).read_text(encoding="utf-8")) == again


def test_comments_carry_each_students_feedback_as_plain_text(cool, graded, bank):
    state, url = cool
    _, key, out = graded
    upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True, comments=True)
    comment = state.posts[0]["grade_data[1][text_comment]"][0]
    assert "王冠宇 · ID 1" in comment
    # each answer and the key's by their texts, the points, and why (an asserted key: set by a TA)
    assert "q01: your answer B 2sAudio.wav = [1, 32, 25], 4sAudio.wav = [1, 32, 50] · correct B 2sAudio.wav" in comment
    assert "· 0.8 / 0.8 · why: set by a TA" in comment
    assert "|" not in comment and "**" not in comment and "\\" not in comment


def test_upload_refuses_a_pending_key_another_key_and_a_foreign_assignment(cool, graded, bank, tmp_path):
    state, url = cool
    export, key, out = graded
    pending = tmp_path / "pending.yaml"
    pending.write_text(dump_key(make_key(bank, pending=("q05",))), encoding="utf-8")
    out2 = tmp_path / "out2"
    assert main(["grade", str(export), "--key", str(pending), "--out", str(out2)]) == 3  # grades.csv withheld
    with pytest.raises(InputError, match="q05 is pending: totals from it are not the course's grades"):
        upload(client(url), COURSE, ASSIGNMENT, out2, pending, bank)
    with pytest.raises(InputError, match="graded with another key"):
        upload(client(url), COURSE, ASSIGNMENT, out, pending, bank)
    with pytest.raises(CanvasError, match="belongs to course 78, not 77"):
        upload(client(url), COURSE, OTHER_COURSE_ASSIGNMENT, out, key, bank)
    (out / "scores.csv").write_bytes((out / "scores.csv").read_bytes().replace(b",6.4,", b",9.9,"))
    with pytest.raises(InputError, match="changed since hw10 wrote them: scores.csv"):
        upload(client(url), COURSE, ASSIGNMENT, out, key, bank)
    assert state.posts == []
