"""``hw10 upload``: post hw10 grade's totals (and feedback comments) to an NTU COOL assignment; a dry run unless
``--yes``."""
from __future__ import annotations

import sys
from pathlib import Path

from grader.errors import terminal_safe
from grader.lms import lms_named
from grader.lms.canvas.upload import RECEIPT
from hw10.cli.common import EXIT_OK, bank


def register(subparsers) -> None:
    """Add ``hw10 upload``."""
    u = subparsers.add_parser("upload", help="post the grades of an hw10 grade folder to NTU COOL (dry run unless "
                                             "--yes)",
                              description="Compare scores.csv with the assignment's current grades and print the "
                                          "diff; with --yes post them (token in CANVAS_API_TOKEN) and write "
                                          f"{RECEIPT} into the folder.")
    u.add_argument("--canvas", required=True, metavar="URL", help="NTU COOL's address, e.g. https://cool.ntu.edu.tw")
    u.add_argument("--course", required=True, type=int, help="course id")
    u.add_argument("--assignment", required=True, metavar="ID",
                   help='assignment id of the quiz\'s gradebook column, or its "Title (id)" as hw10 grade was given')
    u.add_argument("--from", dest="folder", required=True, metavar="DIR", help="the folder hw10 grade wrote")
    u.add_argument("--key", required=True, help="the key the folder was graded with")
    u.add_argument("--yes", action="store_true", help="post (without it: only the dry-run diff)")
    u.add_argument("--comments", action="store_true", help="also post each student's feedback as a comment")
    u.add_argument("--include-excused", action="store_true",
                   help="also post over students NTU COOL shows as excused (a score ends the excusal)")
    u.add_argument("--force", action="store_true", help="post again what a receipt says was posted")
    u.add_argument("--timeout", type=float, default=120.0, metavar="S",
                   help="seconds one answer of NTU COOL may take, all of it (default 120)")
    u.set_defaults(main=main)


def main(*, canvas: str, course: int, assignment: str, folder: str, key: str, yes: bool = False,
         comments: bool = False, include_excused: bool = False, force: bool = False, timeout: float = 120.0,
         questions_dir: str | None = None) -> int:
    """Print the diff; with ``yes`` post and print the receipt's summary.

    Args:
        canvas: NTU COOL's base URL.
        course: the course id.
        assignment: the assignment id, or ``"Title (id)"``.
        folder: the folder ``hw10 grade`` wrote.
        key: the key it was graded with.
        yes: post the grades.
        comments: post each student's feedback as a submission comment.
        include_excused: post over excused submissions too.
        force: post again although a receipt says it was done.
        timeout: seconds one answer of NTU COOL may take.
        questions_dir: the question bank folder (None: the installed one).
    """
    def say(text: str) -> None:
        print(f"  {terminal_safe(text)}", file=sys.stderr, flush=True)

    plan, receipt = lms_named().service.upload(base_url=canvas, course=course, assignment=str(assignment),
                                               folder=Path(folder), key=Path(key), bank=bank(questions_dir), yes=yes,
                                               comments=comments, force=force, include_excused=include_excused,
                                               timeout=timeout, progress=say)
    print(terminal_safe(plan.text()))
    if receipt is None:
        print("dry run: nothing was posted; run again with --yes to post" + (" (and --comments)" if not comments
                                                                             else ""))
        return EXIT_OK
    through = sum(1 for p in receipt["posted"] if p["went_through"])
    print(f"posted {len(receipt['posted'])} grade(s){' with comments' if comments else ''}: {through} now shown by "
          f"NTU COOL, progress {receipt['progress_state']}; receipt in {Path(folder) / RECEIPT}")
    missing = [p["id"] for p in receipt["posted"] if not p["went_through"]]
    if missing:
        print(terminal_safe(f"NOT shown by NTU COOL after posting: {', '.join(missing)} — check them in the "
                            "gradebook"))
        return 1
    return EXIT_OK
