"""``hw10 fetch``: download the quiz's Student Analysis CSV from NTU COOL by API (token in CANVAS_API_TOKEN)."""
from __future__ import annotations

import sys
from pathlib import Path

from grader.canvas.client import Canvas, token_from_env
from grader.canvas.fetch import fetch_report
from grader.cli.common import EXIT_OK


def register(subparsers) -> None:
    """Add ``hw10 fetch``."""
    f = subparsers.add_parser("fetch", help="download the quiz's Student Analysis CSV from NTU COOL (Canvas API)",
                              description="Ask NTU COOL for the quiz's Student Analysis report, wait for it and save "
                                          "the CSV unchanged. The token is read from CANVAS_API_TOKEN.")
    f.add_argument("--canvas", required=True, metavar="URL", help="NTU COOL's address, e.g. https://cool.ntu.edu.tw")
    f.add_argument("--course", required=True, type=int, help="course id (the number after /courses/)")
    f.add_argument("--quiz", required=True, type=int, help="quiz id (the number after /quizzes/)")
    f.add_argument("--out", required=True, metavar="CSV", help="where to save the export")
    f.add_argument("--latest-only", action="store_true",
                   help="only each student's latest attempt (default: every attempt, as --attempt needs)")
    f.add_argument("--wait", type=float, default=600.0, metavar="S",
                   help="seconds to wait for NTU COOL to build the report (default 600)")
    f.add_argument("--force", action="store_true", help="replace --out when it exists")
    f.set_defaults(main=main)


def main(*, canvas: str, course: int, quiz: int, out: str, latest_only: bool = False, wait: float = 600.0,
         force: bool = False) -> int:
    """Fetch the report and say what to run next.

    Args:
        canvas: NTU COOL's base URL.
        course: the course id.
        quiz: the quiz id.
        out: the CSV to write.
        latest_only: only the latest attempt of each student.
        wait: seconds to wait for the report.
        force: replace ``out`` when it exists.
    """
    def say(text: str) -> None:
        print(f"  {text}", file=sys.stderr, flush=True)

    client = Canvas(canvas, token_from_env(), log=say)
    got = fetch_report(client, course, quiz, Path(out), all_attempts=not latest_only, wait_s=wait, force=force,
                       progress=say)
    print(f"wrote {got.path} ({got.size:,} bytes; report {got.report_id}, "
          f"{'every attempt' if got.includes_all_versions else 'latest attempts only'})")
    print(f"next: hw10 grade {got.path} --key KEY.yaml --out DIR --assignment \"HW10 (<assignment id>)\"")
    return EXIT_OK
