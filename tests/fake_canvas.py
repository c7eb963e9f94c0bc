"""A local stand-in for the few NTU COOL (Canvas) endpoints hw10 calls, with response shapes from Canvas's REST API
documentation (Quiz Reports: the QuizReport object with ``file`` / ``progress_url``; Progress: ``workflow_state``
queued → running → completed; Submissions: list with ``include[]=user`` and ``Link`` pagination, ``update_grades``
with ``grade_data[<id>][posted_grade|text_comment]`` returning a Progress; Users: ``/users/self``; errors as
``{"errors": [{"message": …}]}``). The real NTU COOL cannot be reached here."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from local_server import serve

TOKEN = "cool-token"
STUDENT_TOKEN = "student-token"
"""A valid token of a user without a teacher role (403)."""
COURSE, QUIZ, ASSIGNMENT, OTHER_COURSE_ASSIGNMENT = 77, 5, 900, 901


class CanvasState:
    """What the fake NTU COOL holds and what was asked of it."""

    def __init__(self, export: bytes, grades: dict[str, float | None], names: dict[str, str]):
        self.export = export
        self.grades = dict(grades)
        """user id → current score on the assignment (None: ungraded)."""
        self.names = names
        self.report_polls = 0
        self.progress_polls = 0
        self.posts: list[dict[str, list[str]]] = []
        self.throttle = 0
        """The next this-many requests are refused as over Canvas's rate limit."""
        self.requests: list[str] = []
        self.remaining = "650.0"
        """What ``X-Rate-Limit-Remaining`` says (Canvas's bucket holds 700)."""


def handler_for(state: CanvasState):
    class FakeCanvas(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body, headers: dict | None = None, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/csv" if raw is not None else "application/json")
            self.send_header("Content-Length", str(len(data)))
            headers = {"X-Rate-Limit-Remaining": state.remaining, **(headers or {})}
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._send(status, {"errors": [{"message": message}]})

        def _authorised(self) -> bool:
            state.requests.append(f"{self.command} {self.path}")
            if state.throttle:
                state.throttle -= 1
                self._send(403, None, {"X-Rate-Limit-Remaining": "0.0"}, raw=b"403 Forbidden (Rate Limit Exceeded)\n")
                return False
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            if self.path.startswith("/files/"):
                return True  # a file URL carries its own verifier
            if token == STUDENT_TOKEN:
                self._error(403, "user not authorized to perform that action")
                return False
            if token != TOKEN:
                self._error(401, "Invalid access token.")
                return False
            return True

        def base(self) -> str:
            return f"http://{self.headers.get('Host')}"

        def do_GET(self):  # noqa: N802
            if not self._authorised():
                return
            path = urlsplit(self.path).path
            query = parse_qs(urlsplit(self.path).query)
            if path == f"/api/v1/courses/{COURSE}/quizzes/{QUIZ}/reports/11":
                state.report_polls += 1
                done = state.progress_polls >= 3
                self._send(200, self.report(done))
            elif path == "/api/v1/progress/31":
                state.progress_polls += 1
                step = min(state.progress_polls - 1, 2)  # queued, then running, then completed
                self._send(200, {"id": 31, "workflow_state": ["queued", "running", "completed"][step],
                                 "completion": 50 * step, "url": f"{self.base()}/api/v1/progress/31"})
            elif path == "/files/55/download":
                self._send(302, {}, {"Location": "/files/55/export.csv"})
            elif path == "/files/55/export.csv":
                self._send(200, None, raw=state.export)
            elif path == f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}":
                self._send(200, {"id": ASSIGNMENT, "course_id": COURSE, "name": "HW10 Speech Generation",
                                 "points_possible": 10.0})
            elif path == f"/api/v1/courses/{COURSE}/assignments/{OTHER_COURSE_ASSIGNMENT}":
                self._send(200, {"id": OTHER_COURSE_ASSIGNMENT, "course_id": 78, "name": "HW10 elsewhere"})
            elif path == f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions":
                users = sorted(state.grades)
                page = int(query.get("page", ["1"])[0])
                chunk = users[(page - 1) * 2: page * 2]
                headers = {}
                if page * 2 < len(users):
                    headers["Link"] = (f'<{self.base()}{path}?page={page + 1}&per_page=2>; rel="next", '
                                       f'<{self.base()}{path}?page=1&per_page=2>; rel="first"')
                self._send(200, [{"user_id": int(u), "score": state.grades[u], "assignment_id": ASSIGNMENT,
                                  "user": {"id": int(u), "name": state.names.get(u, "")}} for u in chunk], headers)
            elif path == "/api/v1/progress/32":
                self._send(200, {"id": 32, "workflow_state": "completed", "completion": 100,
                                 "url": f"{self.base()}/api/v1/progress/32"})
            elif path == "/api/v1/users/self":
                self._send(200, {"id": 5, "name": "TA Lin", "login_id": "ta_lin"})
            else:
                self._error(404, "The specified resource does not exist.")

        def do_POST(self):  # noqa: N802
            if not self._authorised():
                return
            path = urlsplit(self.path).path
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
            if path == f"/api/v1/courses/{COURSE}/quizzes/{QUIZ}/reports":
                assert form["quiz_report[report_type]"] == ["student_analysis"]
                self._send(200, self.report(False))
            elif path == f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions/update_grades":
                state.posts.append(form)
                for k, v in form.items():
                    if k.endswith("[posted_grade]"):
                        state.grades[k.split("[")[1].rstrip("]")] = float(v[0])
                self._send(200, {"id": 32, "workflow_state": "queued", "completion": 0,
                                 "url": f"{self.base()}/api/v1/progress/32"})
            else:
                self._error(404, "The specified resource does not exist.")

        def report(self, done: bool) -> dict:
            return {"id": 11, "quiz_id": QUIZ, "report_type": "student_analysis", "readable_type": "Student Analysis",
                    "includes_all_versions": True, "anonymous": False, "generatable": True,
                    "url": f"{self.base()}/api/v1/courses/{COURSE}/quizzes/{QUIZ}/reports/11",
                    "file": {"id": 55, "url": f"{self.base()}/files/55/download?verifier=abc"} if done else None,
                    "progress_url": None if done else f"{self.base()}/api/v1/progress/31"}

    return FakeCanvas


def serve_fake_canvas(state: CanvasState):
    """The fake NTU COOL on a free local port; yields its base URL."""
    return serve(handler_for(state))
