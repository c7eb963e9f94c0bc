"""``hw10 fetch``: download the quiz's Student Analysis CSV from NTU COOL by API (token in CANVAS_API_TOKEN)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.errors import InputError, terminal_safe
from grader.lms import lms_named
from hw10.cli.common import EXIT_OK


def register(subparsers) -> None:
    """Add ``hw10 fetch``."""
    f = subparsers.add_parser("fetch", help="download the quiz's Student Analysis CSV from NTU COOL (Canvas API)",
                              description="Ask NTU COOL for the quiz's Student Analysis report, wait for it and save "
                                          "the CSV unchanged. The token is read from CANVAS_API_TOKEN.")
    f.add_argument("--canvas", required=True, metavar="URL", help="NTU COOL's address, e.g. https://cool.ntu.edu.tw")
    f.add_argument("--course", required=True, type=int, help="course id (the number after /courses/)")
    f.add_argument("--quiz", required=True, type=int, help="quiz id (the number after /quizzes/)")
    f.add_argument("--out", required=True, metavar="CSV", help="where to save the export")
    f.add_argument("--kept-attempt-only", action="store_true",
                   help="only the attempt NTU COOL keeps for each student under the quiz's scoring policy (by "
                        "default the highest by NTU COOL's own scores; not necessarily the latest). Default: every "
                        "attempt, and hw10 grade --attempt latest|first|highest chooses")
    # the old name: NTU COOL's includes_all_versions=false never meant "latest"; refused with what it really did
    f.add_argument("--latest-only", action="store_true", help=argparse.SUPPRESS)
    f.add_argument("--wait", type=float, default=600.0, metavar="S",
                   help="seconds to wait for NTU COOL to build the report (default 600)")
    f.add_argument("--timeout", type=float, default=120.0, metavar="S",
                   help="seconds one answer of NTU COOL may take, all of it (default 120)")
    f.add_argument("--force", action="store_true", help="replace --out when it exists")
    f.set_defaults(main=main)


def main(*, canvas: str, course: int, quiz: int, out: str, kept_attempt_only: bool = False,
         latest_only: bool = False, wait: float = 600.0, timeout: float = 120.0, force: bool = False) -> int:
    """Fetch the report and say what to run next.

    Args:
        canvas: NTU COOL's base URL.
        course: the course id.
        quiz: the quiz id.
        out: the CSV to write.
        kept_attempt_only: only the attempt NTU COOL keeps for each student (includes_all_versions=false).
        latest_only: refused (the old name of ``kept_attempt_only``, which never meant the latest attempt).
        wait: seconds to wait for the report.
        timeout: seconds one answer of NTU COOL may take.
        force: replace ``out`` when it exists.
    """
    if latest_only:
        raise InputError("--latest-only is gone: NTU COOL never gave the latest attempt, but the one it keeps under "
                         "the quiz's scoring policy; fetch every attempt (the default) and choose with hw10 grade "
                         "--attempt latest, or pass --kept-attempt-only for NTU COOL's kept attempt")

    def say(text: str) -> None:
        print(f"  {terminal_safe(text)}", file=sys.stderr, flush=True)

    got = lms_named().service.fetch_export(base_url=canvas, course=course, quiz=quiz, out=Path(out),
                                           all_attempts=not kept_attempt_only, wait_s=wait, timeout=timeout,
                                           force=force, progress=say)
    print(terminal_safe(f"wrote {got.path} ({got.size:,} bytes; report {got.report_id}, "
                        f"{'every attempt' if got.includes_all_versions else 'the attempt NTU COOL keeps'})"))
    print(terminal_safe(f"next: hw10 grade {got.path} --key KEY.yaml --out DIR "
                        "--assignment \"HW10 (<assignment id>)\""))
    return EXIT_OK
