"""``hw10 fetch``: the quiz's Student Analysis CSV from NTU COOL by API, unchanged, as the TA would download it.

Canvas's Quiz Reports API (app/controllers/quizzes/quiz_reports_controller.rb): ``POST
/api/v1/courses/:course/quizzes/:quiz/reports`` with ``quiz_report[report_type]=student_analysis`` and
``quiz_report[includes_all_versions]`` returns the report and starts its generation; while it is generated, its
``progress_url`` is polled (app/models/progress.rb: queued → running → completed | failed | canceled); then ``GET
…/reports/:id?include[]=file`` gives the file whose ``url`` is downloaded (it may redirect to a storage host, which
never gets the token). When a report of that kind is already being generated (a co-TA, the quiz's web page, an
earlier interrupted run), Canvas answers 409: the quiz's reports are listed (``GET …/reports``) and the running one
is polled; the same happens when the creating POST's answer is lost. ``failed`` and ``canceled`` end the wait at
once; a report said to be complete that gives no file is an error, not a wait.

``includes_all_versions=true`` (the default, "every attempt") gives one row per attempt, and ``hw10 grade
--attempt latest|first|highest`` chooses. ``includes_all_versions=false`` (``--kept-attempt-only``) gives, per
student, the attempt Canvas *keeps* under the quiz's scoring policy (highest by Canvas's own scores by default),
which is not necessarily the latest.

The bytes go to a temporary file created exclusively (``mkstemp``, mode 0600) next to ``--out`` and are then
linked to ``--out`` only if nothing is there (an existing file, link or folder is never replaced without
``--force``, even one that appeared meanwhile); with ``--force`` the temporary file is renamed over ``--out`` (a
planted symbolic link is replaced, never followed).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.errors import InputError
from grader.onefile import write_new

from .client import Canvas, CanvasError, CanvasUnsure

FILE_LIMIT = 512 * 2**20
"""The largest export read (bytes): a class of thousands with every attempt is tens of megabytes."""


@dataclass(frozen=True)
class Fetched:
    """What ``hw10 fetch`` wrote."""

    path: Path
    size: int
    report_id: int
    includes_all_versions: bool


def fetch_report(canvas: Canvas, course: int, quiz: int, out: Path, *, all_attempts: bool = True,
                 wait_s: float = 600.0, poll_s: float = 2.0, force: bool = False,
                 progress: Callable[[str], None] = lambda text: None, clock=time.monotonic) -> Fetched:
    """Generate (or find) the Student Analysis report of ``quiz`` and save its CSV at ``out`` (module docstring);
    ``progress`` is told how far the report is; a report not ready after ``wait_s`` is a :class:`CanvasError`."""
    out = Path(out)
    if (out.exists() or out.is_symlink()) and not force:
        raise InputError("exists; hw10 fetch does not replace a file (pass --force, or choose another --out)",
                         file=str(out))
    where = f"/api/v1/courses/{course}/quizzes/{quiz}/reports"
    what = f"the Student Analysis report of quiz {quiz} in course {course}"
    deadline = clock() + wait_s
    report = _start(canvas, where, all_attempts, what, progress)
    url = _file_url(canvas, where, report, what, deadline, poll_s, progress, clock)
    data = canvas.request("GET", url, what=f"the file of {what}", limit=FILE_LIMIT, leave_origin=True).body
    if not data.strip():
        raise CanvasError(f"{what}: NTU COOL returned an empty file")
    write_new(out, data, mode=0o600, replace=force, advice="hw10 fetch does not replace a file (pass --force, or "
                                                             "choose another --out)")
    return Fetched(out, len(data), int(report["id"]), bool(report.get("includes_all_versions", all_attempts)))


def _start(canvas: Canvas, where: str, all_attempts: bool, what: str, progress: Callable[[str], None]) -> dict:
    """The report Canvas starts generating, or the one it is already generating (409, or the POST's answer lost)."""
    try:
        report = canvas.request("POST", where, [("quiz_report[report_type]", "student_analysis"),
                                                ("quiz_report[includes_all_versions]", str(all_attempts).lower()),
                                                ("include[]", "file"), ("include[]", "progress")], what=what).json()
    except CanvasUnsure:
        progress("NTU COOL's answer was lost: looking for the report it may have started")
    except CanvasError as exc:
        if exc.status != 409:
            raise
        progress("NTU COOL is already generating this report (started by a co-TA, the quiz's page or an earlier "
                 "run): waiting for it")
    else:
        return _checked(report, what)
    reports = canvas.get_json(where, [("includes_all_versions", str(all_attempts).lower()), ("include[]", "file"),
                                      ("include[]", "progress")], what=f"the reports of quiz {where.split('/')[-2]}")
    for r in reports if isinstance(reports, list) else [reports]:
        if (isinstance(r, dict) and r.get("report_type") == "student_analysis"
                and bool(r.get("includes_all_versions")) == all_attempts):
            return _checked(r, what)
    raise CanvasError(f"{what}: NTU COOL says it is being generated but does not list it; try again in a minute")


def _checked(report, what: str) -> dict:
    if not isinstance(report, dict) or not isinstance(report.get("id"), (int, str)) or not str(
            report.get("id")).isdigit():
        raise CanvasError(f"{what}: NTU COOL answered something that is not a quiz report")
    return report


def _file_url(canvas: Canvas, where: str, report: dict, what: str, deadline: float, poll_s: float,
              progress: Callable[[str], None], clock) -> str:
    """Poll ``report``'s progress until the report has a file; its URL."""
    again = f"{where}/{report['id']}"
    include = [("include[]", "file"), ("include[]", "progress")]
    while True:
        url = _url_of(report)
        if url:
            return url
        prog = report.get("progress") if isinstance(report.get("progress"), dict) else {}
        purl = report.get("progress_url") or prog.get("url")
        if purl:
            prog = canvas.get_json(str(purl), what=f"the progress of {what}")
            prog = prog if isinstance(prog, dict) else {}
        state = prog.get("workflow_state")
        if state in ("failed", "canceled"):
            why = f": {canvas.scrub(str(prog['message']))[:200]}" if prog.get("message") else ""
            raise CanvasError(f"NTU COOL {'could not generate' if state == 'failed' else 'canceled'} {what}{why}; "
                              "run hw10 fetch again to have it start anew")
        if state == "completed" or not purl:
            url = _url_of(_checked(canvas.get_json(again, include, what=what), what))
            if url:
                return url
            raise CanvasError(f"{what}: NTU COOL says it is {'complete' if state else 'not being generated'} but "
                              "gives no file to download; run hw10 fetch again")
        completion = prog.get("completion")
        completion = completion if isinstance(completion, (int, float)) else 0
        progress(f"NTU COOL is generating the report: {state or 'waiting'} {completion:.0f}%")
        if clock() > deadline:
            raise CanvasError(f"{what} was not ready within --wait (NTU COOL is busy); run hw10 fetch again later: it "
                              "waits for the same report")
        canvas.sleep(poll_s)
        report = _checked(canvas.get_json(again, include, what=what), what)


def _url_of(report: dict) -> str | None:
    file = report.get("file")
    url = file.get("url") if isinstance(file, dict) else None
    return url if isinstance(url, str) and url else None
