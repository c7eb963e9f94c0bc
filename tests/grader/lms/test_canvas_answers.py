"""`hw10 fetch` and `hw10 upload` against NTU COOL answering as Canvas's own source does (tests/fake_canvas.py cites
the file of each answer): a missing permission (401 without WWW-Authenticate, or 403) told apart from a bad token,
a report already being generated (409), a job that fails or is canceled, a report complete without a file, the
file on a storage host that never gets the token, both throttling answers, excused students, a grade post whose
answer is lost after Canvas processed it (never resent: only what did not arrive is posted), the sample key, the
kept attempt, the gradebook title, and fetch's temporary file."""
from __future__ import annotations

import json
import os

import pytest
from conftest import SAMPLE
from fake_canvas import (
    ASSIGNMENT,
    COURSE,
    QUIZ,
    STUDENT_TOKEN,
    TOKEN,
    UNPUBLISHED,
    CanvasState,
    graded_class,
    serve_fake_canvas,
)

from grader.errors import InputError
from grader.lms.canvas.client import Canvas, CanvasError
from grader.lms.canvas.fetch import fetch_report
from grader.lms.canvas.gradebook import assignment_column, assignment_id
from grader.lms.canvas.upload import RECEIPT, upload
from grader.onefile import write_new
from hw10.cli import main


@pytest.fixture
def graded(tmp_path, bank):
    """Students 1 (6.4), 2 (0.8) and 3 (not in the course); on NTU COOL 1 has 5.6, 2 is excused, 4 has 3.0."""
    return graded_class(tmp_path, bank, raw=None)


@pytest.fixture
def cool(graded):
    state = CanvasState(graded[0].read_bytes(), {"1": 5.6, "2": None, "4": 3.0},
                        {"1": "王冠宇", "2": "林小美", "4": "張三"}, excused=("2",))
    with serve_fake_canvas(state) as url:
        yield state, url


def client(url: str, token: str = TOKEN, **kw) -> Canvas:
    return Canvas(url, token, **{"sleep": lambda s: None, "timeout": 5, **kw})


# ----------------------------------------------------------------------------- 401 both ways


def test_a_bad_token_and_a_missing_permission_are_told_apart(cool, tmp_path, graded, bank):
    state, url = cool
    with pytest.raises(CanvasError, match="refused the token in CANVAS_API_TOKEN .*HTTP 401: Invalid access token.*"
                                          "wrong, expired or revoked") as bad:
        fetch_report(client(url, "bad-token-123"), COURSE, QUIZ, tmp_path / "a.csv")
    with pytest.raises(CanvasError, match="accepted the token but its user may not do this .HTTP 401: user not "
                                          "authorized.*published.*teacher or TA") as role:
        fetch_report(client(url, STUDENT_TOKEN), COURSE, QUIZ, tmp_path / "a.csv")
    _, key, out = graded
    with pytest.raises(CanvasError, match="accepted the token but its user may not do this .HTTP 401"):
        upload(client(url), COURSE, UNPUBLISHED, out, key, bank)
    state.new_auth_errors = True  # Canvas with api_auth_error_updates: 403
    with pytest.raises(CanvasError, match="accepted the token but its user may not do this .HTTP 403"):
        fetch_report(client(url, STUDENT_TOKEN), COURSE, QUIZ, tmp_path / "a.csv")
    assert "refused the token" not in str(role.value) and "may not do this" not in str(bad.value)


# ----------------------------------------------------------------------------- quiz reports


def test_a_report_already_being_generated_is_found_and_waited_for(cool, tmp_path):
    state, url = cool
    state.busy = True  # a co-TA, the quiz's page or an interrupted run started it
    said = []
    got = fetch_report(client(url), COURSE, QUIZ, tmp_path / "x.csv", progress=said.append)
    assert (tmp_path / "x.csv").read_bytes() == state.export and got.report_id == 11
    assert any("already generating this report" in s for s in said)
    assert sum(r.startswith("POST") for r in state.requests) == 1  # no second create
    assert any(r.startswith(f"GET /api/v1/courses/{COURSE}/quizzes/{QUIZ}/reports?includes_all_versions=true")
               for r in state.requests)


def test_a_report_whose_create_answer_was_lost_is_found_not_created_again(cool, tmp_path):
    state, url = cool
    state.drop_create = True
    said = []
    fetch_report(client(url), COURSE, QUIZ, tmp_path / "x.csv", progress=said.append)
    assert (tmp_path / "x.csv").read_bytes() == state.export and len(state.report_posts) == 1
    assert any("answer was lost: looking for the report it may have started" in s for s in said)


@pytest.mark.parametrize("end, says", [("failed", "could not generate .* undefined method"),
                                       ("canceled", "canceled the Student Analysis report"),
                                       ("no-file", "says it is complete but gives no file")])
def test_a_job_that_fails_is_canceled_or_ends_without_a_file_ends_the_wait_at_once(cool, tmp_path, end, says):
    state, url = cool
    state.report_end = end
    with pytest.raises(CanvasError, match=says + ".*run hw10 fetch again"):
        fetch_report(client(url), COURSE, QUIZ, tmp_path / "x.csv", wait_s=3600)
    assert state.progress_polls == state.ready_after and len(state.requests) < 12  # no busy loop
    assert not (tmp_path / "x.csv").exists()


def test_the_file_comes_from_the_storage_host_without_the_token(cool, tmp_path):
    state, url = cool
    fetch_report(client(url), COURSE, QUIZ, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == state.export
    assert [(p.split("?")[0], auth) for p, auth in state.storage_requests] == [("/bucket/55/export.csv", None)]


def test_kept_attempt_only_asks_for_what_canvas_keeps_and_latest_only_is_refused(cool, tmp_path, monkeypatch,
                                                                                   capsys):
    state, url = cool
    state.ready_after = 1  # (the command line waits for real between polls)
    monkeypatch.setenv("CANVAS_API_TOKEN", TOKEN)
    args = ["fetch", "--canvas", url, "--course", str(COURSE), "--quiz", str(QUIZ)]
    assert main([*args, "--out", str(tmp_path / "a.csv"), "--latest-only"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--latest-only is gone" in err and "hw10 grade --attempt latest" in err
    assert state.requests == []
    assert main([*args, "--out", str(tmp_path / "b.csv"), "--kept-attempt-only"]) == 0
    assert state.report_posts[-1]["quiz_report[includes_all_versions]"] == ["false"]
    assert "the attempt NTU COOL keeps" in capsys.readouterr().out
    assert main([*args, "--out", str(tmp_path / "c.csv")]) == 0
    assert state.report_posts[-1]["quiz_report[includes_all_versions]"] == ["true"]


# ----------------------------------------------------------------------------- throttling


@pytest.mark.parametrize("status", [403, 429])
def test_throttling_is_waited_out_and_a_throttled_post_is_sent_again(cool, graded, bank, status):
    state, url = cool
    _, key, out = graded
    state.throttle_status, state.throttle, state.throttle_posts = status, 2, 1
    said = []
    upload(client(url, log=said.append), COURSE, ASSIGNMENT, out, key, bank, yes=True)
    assert sum("rate limit reached" in s for s in said) == 3
    assert len(state.posts) == 1 and state.grades["1"] == 6.4  # Canvas never ran the throttled one


# ----------------------------------------------------------------------------- excused students


def test_excused_students_are_listed_and_never_posted_over_unless_asked(cool, graded, bank, monkeypatch, capsys):
    state, url = cool
    _, key, out = graded
    monkeypatch.setenv("CANVAS_API_TOKEN", TOKEN)
    args = ["upload", "--canvas", url, "--course", str(COURSE), "--assignment", str(ASSIGNMENT), "--from", str(out),
            "--key", str(key)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "excused on NTU COOL (1, not posted: a score would end the excusal; --include-excused posts over them): " \
           "2 林小美 (would be 0.8)" in text and "(no grade) → 0.8" not in text
    upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True)
    assert state.posts == [{"grade_data[1][posted_grade]": ["6.4"]}] and state.excused == {"2"}
    receipt = json.loads((out / RECEIPT).read_text(encoding="utf-8"))
    assert receipt["excused_not_posted"] == ["2"]
    plan, _ = upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True, force=True, include_excused=True)
    assert "2 林小美: excused → 0.8" in plan.text()
    assert state.posts[-1] == {"grade_data[2][posted_grade]": ["0.8"]} and state.excused == set()


# ----------------------------------------------------------------------------- a grade post is never resent


@pytest.mark.parametrize("mode", ["drop", "timeout", "502"])
def test_a_post_whose_answer_is_lost_is_never_resent(cool, graded, bank, mode):
    state, url = cool
    _, key, out = graded
    state.post_mode, state.post_faults, state.post_sleep = mode, 1, 1.0
    said = []
    _, receipt = upload(client(url, timeout=0.3, deadline=0.5), COURSE, ASSIGNMENT, out, key, bank, yes=True,
                        comments=True, include_excused=True, progress=said.append)
    assert len(state.posts) == 1  # processed once, answered badly, and not posted again
    assert state.grades == {"1": 6.4, "2": 0.8, "4": 3.0}
    assert {uid: len(c) for uid, c in state.comments.items()} == {"1": 1, "2": 1}
    assert any("reading back what arrived before posting anything again" in s for s in said)
    assert receipt["answers_lost"] == 1 and all(p["went_through"] for p in receipt["posted"])


def test_a_post_lost_before_canvas_ran_it_is_posted_once_more_and_only_once(cool, graded, bank):
    state, url = cool
    _, key, out = graded
    state.post_mode, state.post_faults = "drop-first", 1
    said = []
    upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True, comments=True, progress=said.append)
    assert len(state.posts) == 1 and state.grades["1"] == 6.4 and len(state.comments["1"]) == 1
    assert any("0 of 1 arrived; posting the other 1 once more" in s for s in said)
    state.post_faults = 9  # Canvas keeps dropping: a clear error after a few rounds, nothing posted twice
    state.grades["1"] = 5.0
    with pytest.raises(CanvasError, match="answer was lost 3 times; 1 student.s. did not get what was posted: run "
                                          "the same hw10 upload again"):
        upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True, force=True)
    assert len(state.posts) == 1


def test_comments_already_on_canvas_are_not_posted_again(cool, graded, bank):
    state, url = cool
    _, key, out = graded
    upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True, comments=True)
    plan, receipt = upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True, comments=True, force=True)
    assert plan.comments_there == {"1"} and receipt["posted"] == [] and len(state.posts) == 1
    assert state.comments["1"] and len(state.comments["1"]) == 1


def test_a_redirected_post_posts_nothing_anywhere(cool, graded, bank):
    state, url = cool
    _, key, out = graded
    state.post_mode, state.post_faults = "redirect", 1
    with pytest.raises(CanvasError, match="never follows a redirected POST"):
        upload(client(url), COURSE, ASSIGNMENT, out, key, bank, yes=True)
    assert state.posts == [] and state.storage_requests == [] and not (out / RECEIPT).exists()


@pytest.mark.parametrize("case, says", [
    ("bad token", "refused the token"), ("student", "its user may not do this"),
    ("unpublished", "its user may not do this"), ("other course", "belongs to course 78, not 77"),
    ("redirect", "never follows a redirected POST")])
def test_every_refusal_of_hw10_upload_is_one_line_without_the_token(cool, graded, monkeypatch, capsys, case, says):
    state, url = cool
    _, key, out = graded
    token = {"bad token": "bad-token-123", "student": STUDENT_TOKEN}.get(case, TOKEN)
    assignment = {"unpublished": UNPUBLISHED, "other course": 901}.get(case, ASSIGNMENT)
    state.post_mode, state.post_faults = "redirect", 1
    monkeypatch.setenv("CANVAS_API_TOKEN", token)
    capsys.readouterr()
    assert main(["upload", "--canvas", url, "--course", str(COURSE), "--assignment", str(assignment), "--from",
                 str(out), "--key", str(key), "--yes"]) == 2
    out_text, err = capsys.readouterr()
    assert token not in out_text + err and "Traceback" not in err and says in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and err.splitlines()[-1] == errors[0]
    assert state.posts == []


# ----------------------------------------------------------------------------- the sample key


def test_upload_refuses_the_shipped_sample_key(tmp_path, monkeypatch, capsys):
    key = SAMPLE / "key.yaml"
    out = tmp_path / "out"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(key), "--out", str(out)]) == 0
    state = CanvasState(b"", {"1": None}, {"1": "x"})
    with serve_fake_canvas(state) as url:
        monkeypatch.setenv("CANVAS_API_TOKEN", TOKEN)
        capsys.readouterr()
        assert main(["upload", "--canvas", url, "--course", str(COURSE), "--assignment", str(ASSIGNMENT), "--from",
                     str(out), "--key", str(key), "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is the SAMPLE key shipped with hw10" in err and "never posted" in err
    assert state.posts == [] and state.requests == []


# ----------------------------------------------------------------------------- the gradebook title


@pytest.mark.parametrize("text, ident", [("HW10 (123)", 123), ("HW10 Speech Generation (98765)", 98765),
                                         ("HW10  (7)", 7), ("(HW10) draft (12)", 12), ("HW10", None),
                                         ("HW10 Speech Generation", None), ("Quiz 3", None)])
def test_a_title_canvas_reads_an_id_from_or_a_plain_title_is_accepted(text, ident):
    assert assignment_column(text).id == ident


FIX = 'write it "HW10 (123)"'


@pytest.mark.parametrize("text, fix", [("HW10(123)", FIX), ("HW10 (123) ", FIX), ("HW10 （123）", FIX),
                                       ("HW10 (#123)", FIX), ("HW10 [123]", FIX), ("HW10\u3000(123)", FIX),
                                       ("123", 'give the title too'), ("HW10 (0)", "e.g."), ("HW10\n(123)", "one line"),
                                       ("  ", "is empty")])
def test_a_title_canvas_would_read_as_a_new_column_is_refused(text, fix):
    with pytest.raises(InputError, match="--assignment") as err:
        assignment_column(text)
    assert fix in str(err.value)


def test_upload_takes_an_id_or_a_title_with_one(cool, graded, monkeypatch, capsys):
    _, url = cool
    _, key, out = graded
    assert assignment_id("900") == 900 and assignment_id("HW10 (900)") == 900
    monkeypatch.setenv("CANVAS_API_TOKEN", TOKEN)
    args = ["upload", "--canvas", url, "--course", str(COURSE), "--from", str(out), "--key", str(key)]
    assert main([*args, "--assignment", "HW10 Speech Generation (900)"]) == 0
    capsys.readouterr()
    for bad in ("HW10(900)", "HW10 Speech Generation", "-900"):
        assert main([*args, "--assignment", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--assignment" in err


# ----------------------------------------------------------------------------- fetch's temporary file


def test_fetch_writes_through_no_planted_link(cool, tmp_path):
    _, url = cool
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n", encoding="utf-8")
    out = tmp_path / "x.csv"
    for name in (f".x.csv.hw10-tmp-{os.getpid()}", ".x.csv.hw10-tmp"):  # the names hw10 used to write through
        (tmp_path / name).symlink_to(victim)
    fetch_report(client(url), COURSE, QUIZ, out)
    assert victim.read_text(encoding="utf-8") == "mine\n" and not out.is_symlink() and out.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir() if ".hw10-tmp" in p.name) == [
        ".x.csv.hw10-tmp", f".x.csv.hw10-tmp-{os.getpid()}"]  # nothing of hw10's own is left behind


def test_write_new_never_replaces_what_appeared_and_force_replaces_a_link_not_its_target(tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("appeared meanwhile\n", encoding="utf-8")
    with pytest.raises(InputError, match="already exists: hw10 never replaces a file it did not write"):
        write_new(out, b"new")
    assert out.read_text(encoding="utf-8") == "appeared meanwhile\n"
    target = tmp_path / "target.txt"
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    with pytest.raises(InputError, match="already exists"):
        write_new(link, b"new")
    assert not target.exists()
    write_new(link, b"new", replace=True, mode=0o600)
    assert not link.is_symlink() and link.read_bytes() == b"new" and not target.exists()
    assert link.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if "tmp" in p.name] == []
