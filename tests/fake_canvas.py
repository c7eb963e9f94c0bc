"""A local stand-in for the few NTU COOL (Canvas) endpoints hw10 calls, answering as Canvas's own source does (the
real NTU COOL cannot be reached here). Each response shape names the canvas-lms file it follows:

- errors: ``{"errors": [{"message": …}]}`` (app/controllers/application_controller.rb, ``render_json_unauthorized``
  and the API exception handler); a bad token is 401 *with* ``WWW-Authenticate: Bearer realm="canvas-lms"``
  ("Invalid access token."), a valid token whose user may not do it is 401 *without* it ("user not authorized to
  perform that action"), or 403 where Canvas's ``api_auth_error_updates`` flag is on (``new_auth_errors``);
- throttling (app/middleware/request_throttle.rb, ``rate_limit_exceeded``): 403, text/plain
  ``403 Forbidden (Rate Limit Exceeded)``, ``X-Rate-Limit-Remaining: 0.0``, the request *not* processed; other
  answers carry ``X-Request-Cost`` and ``X-Rate-Limit-Remaining`` (the bucket's high-water mark is 600); some
  deployments answer 429 (``throttle_status``);
- quiz reports (app/controllers/quizzes/quiz_reports_controller.rb, app/serializers/quizzes/quiz_report_serializer.rb):
  ``create`` answers 409 "report is already being generated" while one of that kind is queued or running, else the
  report with ``progress_url`` (and ``file`` once generated); ``index`` lists the current report of each type for
  ``includes_all_versions`` with ``file`` and ``progress``;
- progress (app/models/progress.rb, lib/api/v1/progress.rb): ``workflow_state`` queued → running → completed, or
  failed / canceled, ``completion``, ``message``, ``url``;
- the report's file (lib/api/v1/attachment.rb, app/controllers/files_controller.rb): its ``url`` is
  ``/files/:id/download?…verifier=…``, which redirects (302) to the storage host (inst-fs or S3: here a second local
  server, another origin, that records whether it ever got an ``Authorization`` header);
- submissions (lib/api/v1/submission.rb, ``submission_json``): ``user_id``, ``score``, ``grade``, ``excused``
  (an excused one has a null score), ``submission_comments`` with ``include[]=submission_comments``; paginated
  with ``Link: <…>; rel="next"`` (lib/api.rb, ``paginate``);
- ``update_grades`` (app/controllers/submissions_api_controller.rb, ``bulk_update``): ``grade_data[<id>]
  [posted_grade|text_comment]``, answers a Progress; a posted score ends an excusal; every post adds its comments
  (not idempotent). ``post_faults`` makes the next posts be processed and then answered badly (``post_mode``:
  ``drop`` the connection, ``timeout``, ``502``), or not processed at all (``drop-first``), or redirected
  (``redirect``, which real Canvas never does for the API: a proxy or a moved site).
"""
from __future__ import annotations

import contextlib
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from local_server import respond, respond_json, serve

TOKEN = "cool-token"
STUDENT_TOKEN = "student-token"
"""A valid token of a user without a teacher role."""
COURSE, QUIZ, ASSIGNMENT, OTHER_COURSE_ASSIGNMENT, UNPUBLISHED = 77, 5, 900, 901, 902


class CanvasState:
    """What the fake NTU COOL holds and what was asked of it."""

    def __init__(self, export: bytes, grades: dict[str, float | None], names: dict[str, str],
                 excused: tuple[str, ...] = ()):
        self.export = export
        self.grades = dict(grades)
        """user id → current score on the assignment (None: ungraded or excused)."""
        self.names = names
        self.excused = set(excused)
        self.comments: dict[str, list[str]] = {}
        self.report_polls = 0
        self.progress_polls = 0
        self.ready_after = 3
        """Progress polls until the report is generated."""
        self.report_end = "completed"
        """How the report's job ends: completed, failed, canceled, or ``no-file`` (completed, and no file)."""
        self.busy = False
        """A report of this kind is already being generated (create answers 409)."""
        self.drop_create = False
        """The next create starts the report and then drops the connection without an answer."""
        self.posts: list[dict[str, list[str]]] = []
        self.post_faults = 0
        self.post_mode = "drop"
        self.post_sleep = 1.0
        self.throttle = 0
        """The next this-many requests are refused as over Canvas's rate limit."""
        self.throttle_status = 403
        self.throttle_posts = 0
        """The next this-many POSTs are refused so (and not processed)."""
        self.report_posts: list[dict[str, list[str]]] = []
        self.all_versions = True
        """includes_all_versions of the report being generated (the last create asked for)."""
        self.new_auth_errors = False
        self.requests: list[str] = []
        self.remaining = "550.0"
        """What ``X-Rate-Limit-Remaining`` says."""
        self.storage = ""
        """The storage host's base URL (set by :func:`serve_fake_canvas`)."""
        self.storage_requests: list[tuple[str, str | None]] = []
        """(path, Authorization header) of every request the storage host got."""


def handler_for(state: CanvasState):
    class FakeCanvas(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body, headers: dict | None = None, raw: bytes | None = None,
                  ctype: str = "text/csv") -> None:
            headers = {"X-Request-Cost": "0.0125", "X-Rate-Limit-Remaining": state.remaining, **(headers or {})}
            if raw is not None:
                respond(self, status, raw, ctype, headers)
            else:
                respond_json(self, status, body, headers, "application/json; charset=utf-8")

        def _error(self, code: int, message: str, headers: dict | None = None, **extra) -> None:
            self._send(code, {**extra, "errors": [{"message": message}]}, headers)

        def _authorised(self) -> bool:
            state.requests.append(f"{self.command} {self.path}")
            if state.throttle or (state.throttle_posts and self.command == "POST"):
                # request_throttle.rb: refused before the app runs, so nothing is processed
                if state.throttle:
                    state.throttle -= 1
                else:
                    state.throttle_posts -= 1
                text = b"403 Forbidden (Rate Limit Exceeded)\n" if state.throttle_status == 403 else \
                    b"429 Too Many Requests (Rate Limit Exceeded)\n"
                self.send_response(state.throttle_status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("X-Rate-Limit-Remaining", "0.0")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
                return False
            if self.path.startswith("/files/"):
                return True  # a file URL carries its own verifier
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            if token not in (TOKEN, STUDENT_TOKEN):
                # application_controller.rb: AuthenticationMethods::AccessTokenError
                self._error(401, "Invalid access token.", {"WWW-Authenticate": 'Bearer realm="canvas-lms"'})
                return False
            if token == STUDENT_TOKEN or f"/assignments/{UNPUBLISHED}" in self.path:
                self._forbidden()
                return False
            return True

        def _forbidden(self) -> None:
            # application_controller.rb: render_json_unauthorized, a user who is logged in
            self._error(403 if state.new_auth_errors else 401, "user not authorized to perform that action",
                        status="unauthorized")

        def base(self) -> str:
            return f"http://{self.headers.get('Host')}"

        def do_GET(self):  # noqa: N802
            if not self._authorised():
                return
            path = urlsplit(self.path).path
            query = parse_qs(urlsplit(self.path).query)
            reports = f"/api/v1/courses/{COURSE}/quizzes/{QUIZ}/reports"
            if path == f"{reports}/11":
                state.report_polls += 1
                self._send(200, self.report("file" in query.get("include[]", []), "progress" in
                                            query.get("include[]", [])))
            elif path == reports:  # index: every report type, with file and progress
                all_versions = query.get("includes_all_versions", ["false"])[0] == "true"
                self._send(200, [self.report(True, True, all_versions),
                                 {**self.report(True, True, all_versions), "id": 12, "report_type": "item_analysis",
                                  "readable_type": "Item Analysis", "file": None, "progress": None,
                                  "progress_url": None}])
            elif path == "/api/v1/progress/31":
                state.progress_polls += 1
                self._send(200, self.report_progress())
            elif path == "/files/55/download":  # files_controller.rb: to the storage (inst-fs / S3)
                self._send(302, {}, {"Location": f"{state.storage}/bucket/55/export.csv?X-Amz-Signature=abc"})
            elif path == f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}":
                self._send(200, {"id": ASSIGNMENT, "course_id": COURSE, "name": "HW10 Speech Generation",
                                 "points_possible": 10.0, "published": True})
            elif path == f"/api/v1/courses/{COURSE}/assignments/{OTHER_COURSE_ASSIGNMENT}":
                self._send(200, {"id": OTHER_COURSE_ASSIGNMENT, "course_id": 78, "name": "HW10 elsewhere"})
            elif path == f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions":
                self.submissions(path, query)
            elif path == "/api/v1/progress/32":
                self._send(200, {"id": 32, "context_type": "Assignment", "tag": "submissions_update",
                                 "workflow_state": "completed", "completion": 100, "message": None,
                                 "url": f"{self.base()}/api/v1/progress/32"})
            elif path == "/api/v1/users/self":  # lib/api/v1/user.rb
                self._send(200, {"id": 5, "name": "TA Lin", "login_id": "ta_lin"})
            else:
                self._error(404, "The specified resource does not exist.")

        def submissions(self, path: str, query: dict) -> None:
            users = sorted(state.grades)
            page = int(query.get("page", ["1"])[0])
            per = 2
            chunk = users[(page - 1) * per: page * per]
            headers = {}
            if page * per < len(users):  # lib/api.rb: paginate's Link header
                headers["Link"] = (f'<{self.base()}{path}?page={page + 1}&per_page={per}>; rel="next", '
                                   f'<{self.base()}{path}?page=1&per_page={per}>; rel="first"')
            with_comments = "submission_comments" in query.get("include[]", [])
            out = []
            for u in chunk:
                sub = {"user_id": int(u), "assignment_id": ASSIGNMENT, "score": state.grades[u],
                       "grade": None if state.grades[u] is None else str(state.grades[u]),
                       "excused": u in state.excused, "workflow_state": "graded" if state.grades[u] is not None
                       or u in state.excused else "unsubmitted",
                       "user": {"id": int(u), "name": state.names.get(u, "")}}
                if with_comments:
                    sub["submission_comments"] = [{"id": 100 + i, "author_id": 5, "author_name": "TA Lin",
                                                   "comment": c} for i, c in enumerate(state.comments.get(u, []))]
                out.append(sub)
            self._send(200, out, headers)

        def do_POST(self):  # noqa: N802
            if not self._authorised():
                return
            path = urlsplit(self.path).path
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode(),
                            keep_blank_values=True)
            if path == f"/api/v1/courses/{COURSE}/quizzes/{QUIZ}/reports":
                assert form["quiz_report[report_type]"] == ["student_analysis"]
                state.report_posts.append(form)
                state.all_versions = form.get("quiz_report[includes_all_versions]") == ["true"]
                if state.busy:  # quiz_reports_controller.rb#create: reject! 'report is already being generated', 409
                    self._error(409, "report is already being generated")
                    return
                state.busy = True
                if state.drop_create:
                    state.drop_create, self.close_connection = False, True
                    return
                # non-JSON-API create includes the file only (backward_compatible_includes), never "progress"
                self._send(200, self.report(True, False))
            elif path == f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions/update_grades":
                self.update_grades(form)
            else:
                self._error(404, "The specified resource does not exist.")

        def update_grades(self, form: dict) -> None:
            fault = state.post_mode if state.post_faults else None
            state.post_faults = max(0, state.post_faults - 1)
            if fault == "redirect":
                self._send(307, {}, {"Location": f"{state.storage}/api/v1/elsewhere"})
                return
            if fault == "drop-first":
                self.close_connection = True
                return
            state.posts.append(form)
            for k, v in form.items():
                uid, field = k.split("[")[1].rstrip("]"), k.split("[")[2].rstrip("]")
                if field == "posted_grade":
                    state.grades[uid] = float(v[0])
                    state.excused.discard(uid)  # a score ends the excusal
                elif field == "text_comment" and v[0]:
                    state.comments.setdefault(uid, []).append(v[0])
            if fault == "drop":
                self.close_connection = True
                return
            if fault == "timeout":
                time.sleep(state.post_sleep)
            if fault == "502":
                self._send(502, None, raw=b"<html>502 Bad Gateway</html>", ctype="text/html")
                return
            self._send(200, {"id": 32, "context_type": "Assignment", "tag": "submissions_update",
                             "workflow_state": "queued", "completion": 0, "message": None,
                             "url": f"{self.base()}/api/v1/progress/32"})

        def report_progress(self) -> dict:
            step = min(state.progress_polls - 1, 2)  # queued, then running, then how the job ends
            end = state.report_end if state.progress_polls >= state.ready_after else None
            workflow = {"no-file": "completed"}.get(end, end) if end else ["queued", "running", "running"][step]
            message = {"failed": "undefined method `csv' for nil", "canceled": None}.get(end)
            return {"id": 31, "context_type": "Quizzes::QuizStatistics", "tag": "Quizzes::QuizStatistics",
                    "workflow_state": workflow, "completion": 100 if workflow == "completed" else 50 * step,
                    "message": message, "url": f"{self.base()}/api/v1/progress/31"}

        def report(self, include_file: bool, include_progress: bool, all_versions: bool | None = None) -> dict:
            done = state.progress_polls >= state.ready_after and state.report_end == "completed"
            if state.progress_polls >= state.ready_after:
                state.busy = False
            out = {"id": 11, "quiz_id": QUIZ, "report_type": "student_analysis", "readable_type": "Student Analysis",
                   "includes_all_versions": state.all_versions if all_versions is None else all_versions,
                   "anonymous": False, "generatable": True,
                   "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
                   "url": f"{self.base()}/api/v1/courses/{COURSE}/quizzes/{QUIZ}/reports/11",
                   "progress_url": f"{self.base()}/api/v1/progress/31"}
            if include_file and done:
                out["file"] = {"id": 55, "display_name": "quiz_student_analysis_report.csv",
                               "content-type": "text/csv", "size": len(state.export),
                               "url": f"{self.base()}/files/55/download?download_frd=1&verifier=abc"}
            if include_progress:
                out["progress"] = self.report_progress_peek()
            return out

        def report_progress_peek(self) -> dict:
            return self.report_progress() if state.progress_polls else {
                "id": 31, "workflow_state": "queued", "completion": 0, "url": f"{self.base()}/api/v1/progress/31"}

    return FakeCanvas


def storage_handler(state: CanvasState):
    """The storage host the report's file redirects to (another origin): serves the file to anyone with the URL."""
    class Storage(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            state.storage_requests.append((self.path, self.headers.get("Authorization")))
            data = state.export if self.path.startswith("/bucket/55/") else b"not here"
            self.send_response(200 if self.path.startswith("/bucket/55/") else 404)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET  # noqa: N815 - a redirected POST would land here

    return Storage


@contextlib.contextmanager
def serve_fake_canvas(state: CanvasState):
    """The fake NTU COOL and its storage host on free local ports; yields NTU COOL's base URL."""
    with serve(storage_handler(state)) as storage, serve(handler_for(state)) as url:
        state.storage = storage.replace("127.0.0.1", "localhost")  # another host too, not only another port
        yield url


def graded_class(tmp_path, bank, raw: dict[str, str] | None = None):
    """``(export, key, out)``: three students graded with a complete key by ``hw10 grade``: id 1 (8 single-answer
    questions right: 6.4), 2 (one right: 0.8; with ``raw``, cells hw10 cannot read, e.g. ``{"q02": "42"}``) and 3 (who
    is not in the fake course)."""
    from conftest import make_key
    from exportkit import Row, write_export

    from grader.key import dump_key
    from hw10.cli import main

    export = tmp_path / "export.csv"
    right = {q: [c] for q, c in {"q01": "B", "q02": "C", "q03": "B", "q04": "B", "q05": "C", "q07": "C", "q08": "C",
                                 "q09": "B"}.items()}
    write_export(export, bank, [Row("1", name="王冠宇", answers=right),
                                Row("2", name="林小美", answers={"q01": ["B"]}, raw=raw or {}),
                                Row("3", name="陳大文")])
    key = tmp_path / "key.yaml"
    key.write_text(dump_key(make_key(bank)), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["grade", str(export), "--key", str(key), "--out", str(out)]) == 0
    return export, key, out
