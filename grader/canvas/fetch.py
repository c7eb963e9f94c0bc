"""``hw10 fetch``: the quiz's Student Analysis CSV from NTU COOL by API, unchanged, as the TA would download it.

Canvas's Quiz Reports API: ``POST /api/v1/courses/:course/quizzes/:quiz/reports`` with
``quiz_report[report_type]=student_analysis`` (and ``quiz_report[includes_all_versions]=true`` for every
attempt) returns the report; while it is generated, its ``progress_url`` is polled (``workflow_state``
queued → running → completed | failed); then ``GET …/reports/:id?include[]=file`` gives the file whose ``url``
is downloaded. The bytes are written to a temporary name next to ``--out`` and renamed; an existing ``--out`` is
not replaced without ``--force``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import InputError
from .client import Canvas, CanvasError


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
    """Generate (or reuse) the Student Analysis report of ``quiz`` and save its CSV at ``out`` (module docstring);
    ``progress`` is told how far the report is; a report not ready after ``wait_s`` is a :class:`CanvasError`."""
    out = Path(out)
    if (out.exists() or out.is_symlink()) and not force:
        raise InputError("exists; hw10 fetch does not replace a file (pass --force, or choose another --out)",
                         file=str(out))
    where = f"/api/v1/courses/{course}/quizzes/{quiz}/reports"
    what = f"the Student Analysis report of quiz {quiz} in course {course}"
    report = canvas.request("POST", where, [("quiz_report[report_type]", "student_analysis"),
                                            ("quiz_report[includes_all_versions]", str(all_attempts).lower()),
                                            ("include[]", "file"), ("include[]", "progress")], what=what).json()
    start = clock()
    while not (report.get("file") or {}).get("url"):
        prog = report.get("progress") or {}
        url = report.get("progress_url") or prog.get("url")
        if url:
            prog = canvas.get_json(url, what=f"the progress of {what}")
        state = prog.get("workflow_state")
        if state == "failed":
            raise CanvasError(f"NTU COOL could not generate {what}: {prog.get('message') or 'the job failed'}")
        progress(f"NTU COOL is generating the report: {state or 'waiting'} {prog.get('completion') or 0:.0f}%")
        if clock() - start > wait_s:
            raise CanvasError(f"{what} was not ready after {wait_s:.0f} s; try again later (NTU COOL is busy)")
        if state != "completed":
            canvas.sleep(poll_s)
        report = canvas.get_json(f"{where}/{report['id']}", [("include[]", "file"), ("include[]", "progress")],
                                 what=what)
    data = canvas.request("GET", report["file"]["url"], what=f"the file of {what}").body
    if not data.strip():
        raise CanvasError(f"{what}: NTU COOL returned an empty file")
    tmp = out.with_name(f".{out.name}.hw10-tmp-{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write ({exc.strerror})", file=str(out)) from None
    return Fetched(out, len(data), int(report["id"]), bool(report.get("includes_all_versions", all_attempts)))
