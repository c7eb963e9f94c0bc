"""`hw10 grade`: read an export, grade it with a key, write every output. No printing here."""
from __future__ import annotations

import contextlib
import gc
import os
import re
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, replace
from pathlib import Path

from grader.errors import InputError
from grader.filenames import feedback_names
from grader.items import QuizStats, analyse
from grader.key import AnswerKey, load_key
from grader.lms import DEFAULT as DEFAULT_LMS
from grader.lms import lms_named
from grader.options import Flag, option
from grader.outfolder import MAX_CHUNKS, OutputFolder, file_sha256
from grader.readers import load_pins
from grader.readers.formats import FORMATS, read_submissions
from grader.readers.pins import SUGGESTIONS, suggestions_yaml, unread_texts
from grader.sheet import AttemptPolicy, ScoreSheet, grade_roster
from grader.spec import QuestionBank
from grader.submissions import Roster
from grader.writers import (
    RegradeRow,
    csv_bytes,
    items_rows,
    regrade_diff,
    regrade_rows,
    scores_rows,
)
from reports.render import FeedbackRenderer, render_class_report


def _path(text: str) -> Path:
    return Path(text)


@dataclass(frozen=True)
class GradeOptions:
    """``hw10 grade``'s options, declared once (:mod:`grader.options`): the command line, its defaults and the
    keyword arguments of :func:`run_grade`'s callers all come from these fields."""

    export: Path = option(MISSING, Flag("export", "NTU COOL quiz Student Analysis CSV, plain CSV (id,name,q01…q12) "
                                                  "or YAML/JSON", type=_path))
    key: Path = option(MISSING, Flag("--key", "answer key YAML (format hw10-key/1)", type=_path))
    out: Path = option(MISSING, Flag("--out", "output folder", type=_path))
    previous_key: Path | None = option(None, Flag("--previous-key", "the key used before: adds regrade.csv and a "
                                                                    "regrade section", type=_path))
    fmt: str = option("auto", Flag("--format", "the export's format (default: auto, from its content)",
                                   choices=FORMATS))
    attempt: AttemptPolicy = option("latest", Flag("--attempt", "which attempt counts when a student has several "
                                                                "(default: latest)",
                                                   choices=("latest", "first", "highest")))
    assignment: str = option("HW10 Speech Generation", Flag(
        "--assignment", 'gradebook column title; use "Title (assignment id)" to update an existing assignment'))
    lms: str = DEFAULT_LMS
    """Whose gradebook file grades.csv is (:mod:`grader.lms`)."""
    no_points_possible: bool = option(False, Flag("--no-points-possible", "omit the Points Possible row in "
                                                                          "grades.csv", switch=True))
    decimals: int = option(4, Flag("--decimals", "decimals written for points (default 4)", type=int))
    match: Path | None = option(None, Flag("--match", "YAML pinning question columns / choice texts when the "
                                                      "export is ambiguous", type=_path))
    allow_pending: bool = option(False, Flag("--allow-pending", "write grades.csv even when the key has pending "
                                                                "(not graded) questions", switch=True))
    allow_fixture_key: bool = option(False, Flag("--allow-fixture-key", "write grades.csv even from a key computed "
                                                                        "from hw10 test fixtures (demos only)",
                                                 switch=True))
    evidence_report: str | None = option(None, Flag(
        "--evidence-report", "where the key's evidence report is published (an https:// URL, or the folder of `hw10 "
                             "report`): each student's page links every answer to its plots and audio there",
        metavar="URL|DIR"))
    workers: int | None = None
    """Processes rendering and writing the feedback pages (None: :func:`feedback_parts` decides)."""

    @property
    def points_possible(self) -> bool:
        """Whether grades.csv has the Points Possible row."""
        return not self.no_points_possible


def evidence_link(where: str | None, out: Path) -> str | None:
    """The link a feedback page (``out/feedback/<id>.html``) gives to the evidence report ``where``: an http(s) URL
    as it is, a folder holding the report's ``index.html`` as a path relative to the pages; an
    :class:`InputError` for anything else (a typo would publish dead links to every student)."""
    if where is None:
        return None
    if re.match(r"https?://[^\s/]+", where, re.IGNORECASE):
        if any(ch.isspace() or ch in "\"<>" for ch in where):
            raise InputError(f"--evidence-report {where!r}: not a URL a page can link to")
        return where
    if "://" in where:
        raise InputError(f"--evidence-report {where!r}: only http(s) URLs or a folder of `hw10 report`")
    page = Path(where) / "index.html"
    if not page.is_file():
        raise InputError("--evidence-report: no index.html here (the folder `hw10 report --out DIR` wrote, or the "
                         "https:// address it is published at)", file=where)
    return Path(os.path.relpath(page.resolve(), (out / "feedback").resolve())).as_posix()


PARALLEL_FROM = 2_000
"""Students from which the feedback pages are shared between two processes (below it, a fork costs more than it
saves)."""


FEEDBACK_CHUNK = 100
"""Students per chunk of feedback pages: the processes writing them take chunks as they go (the one that also
writes the class files takes fewer), and end within one chunk of each other."""


def feedback_parts(students: int, workers: int | None = None) -> int:
    """How many processes write the feedback pages: ``workers`` when given, else two on a machine with two or more
    cores from :data:`PARALLEL_FROM` students on, else one."""
    if workers is not None:
        return max(1, workers)
    return 2 if students >= PARALLEL_FROM and (os.cpu_count() or 1) >= 2 else 1


@dataclass
class GradeOutcome:
    roster: Roster
    sheet: ScoreSheet
    stats: QuizStats
    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Outputs deliberately not written, with the reason."""
    regrade: list[RegradeRow] | None = None
    rows: int = 0
    """Rows read from the export (its students' attempts)."""
    unread: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per question, the answer texts that matched no choice (and in how many cells): ``match-suggestions.yaml``."""


def grades_withheld(key: AnswerKey, sheet: ScoreSheet, opts: GradeOptions) -> list[str]:
    """Why grades.csv (the gradebook import) must not be written with this key, each with its way out."""
    why = []
    if sheet.pending and not opts.allow_pending:
        review = (f" ({', '.join(key.in_review)} wait for a TA's review: `hw10 review KEY --evidence-dir DIR --out "
                  "SHEET`)") if key.in_review else ""
        why.append(f"grades.csv: {', '.join(sheet.pending)} not graded in the key{review}, so totals would be out of "
                   f"{float(sheet.max_total):g}; pass --allow-pending to write it anyway")
    if key.from_fixtures and not opts.allow_fixture_key:
        why.append(f"grades.csv: the key's answers to {', '.join(key.from_fixtures)} were computed from hw10 test "
                   "fixtures (level: fixture), not the real models; compute the key with the real models, or pass "
                   "--allow-fixture-key for a demo")
    return why


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a block that only builds objects that live on: grading 100,000
    students set off ten full collections, a third of the grading time, and there is no garbage in cycles to find."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run_grade(opts: GradeOptions, bank: QuestionBank) -> GradeOutcome:
    """``hw10 grade``: reads the key(s), pins and export, grades every student and writes scores.csv, grades.csv
    (unless withheld, see :func:`grades_withheld`), items.csv, regrade.csv (with ``--previous-key``), report.html
    and one feedback page per student into ``opts.out``; returns what was graded, written and skipped."""
    if not 0 <= opts.decimals <= 8:
        raise InputError(f"--decimals {opts.decimals} is out of range 0…8")
    if not opts.assignment.strip():
        raise InputError("--assignment is empty: grades.csv needs a gradebook column title, e.g. \"HW10 (12345)\"")
    link = evidence_link(opts.evidence_report, opts.out)
    # the output folder is checked first (inputs inside it, files hw10 did not write, files edited since): an earlier
    # output's files are checked in another process while this one reads, grades and writes (a rerun of 100,000
    # students hashes 1.2 GB), its refusal reported before any error of the export and before anything is replaced
    target = OutputFolder(opts.out, inputs=[opts.export, opts.key, opts.previous_key, opts.match], background=True)
    try:
        key: AnswerKey = load_key(opts.key, bank)
        old_key = load_key(opts.previous_key, bank) if opts.previous_key else None
        pins = load_pins(opts.match, bank)
        roster = read_submissions(opts.export, bank, opts.fmt, pins)
        if not roster.submissions:
            raise InputError("no student rows in the file", file=str(opts.export))
        with collector_paused():
            sheet = grade_roster(roster, bank, key, opts.attempt)
            regrade = regrade_diff(sheet, grade_roster(roster, bank, old_key, opts.attempt)) if old_key else None
        target.checked(wait=False)  # a refusal found by now (a file hw10 did not write: at once) stops the run here
        rows = len(roster.submissions)
        unread = unread_texts(roster.submissions)
        # every row is graded: the rows themselves are let go (at 100,000 students they are a third of the memory)
        roster = replace(roster, submissions=[])
        names = feedback_names([r.student_id for r in sheet.results])
        renderer = FeedbackRenderer(sheet, opts.decimals, link)
    except InputError:
        target.checked()  # the output folder's refusal, if any, is the one reported: as if checked before the work
        raise
    except BaseException:
        target.abandon()
        raise
    target.meta = {"command": "grade", "key": str(opts.key), "key_sha256": file_sha256(opts.key),
                   "pending": key.pending, "in_review": key.in_review, "from_fixtures": key.from_fixtures,
                   "decimals": opts.decimals, "assignment": opts.assignment}
    stats: list[QuizStats] = []
    skipped: list[str] = []

    chunks = min(MAX_CHUNKS, -(-len(sheet.results) // FEEDBACK_CHUNK))
    size = -(-len(sheet.results) // chunks)

    def pages(k: int, _chunks: int):
        for r in sheet.results[k * size:(k + 1) * size]:  # one student's pages at a time: never all in memory
            html, md = renderer.render(r)
            yield f"feedback/{names[r.student_id]}.html", html
            yield f"feedback/{names[r.student_id]}.md", md

    with target as out:
        def class_files() -> None:
            """Everything but the feedback pages (done while another process writes its share of them)."""
            stats.append(analyse(sheet))
            out.write_bytes("scores.csv", csv_bytes(scores_rows(sheet, opts.decimals, names)))
            withheld = grades_withheld(key, sheet, opts)
            if withheld:
                skipped.extend(withheld)  # and no grades.csv of an earlier run is left beside these files
            else:
                gradebook = lms_named(opts.lms).gradebook
                out.write_bytes("grades.csv", csv_bytes(gradebook.rows(sheet, gradebook.column(opts.assignment),
                                                                       opts.decimals, opts.points_possible)))
            out.write_bytes("items.csv", csv_bytes(items_rows(stats[0], sheet)))
            if regrade is not None:
                out.write_bytes("regrade.csv", csv_bytes(regrade_rows(regrade, opts.decimals)))
            if unread:
                out.write_text(SUGGESTIONS, suggestions_yaml(bank, unread))
            out.write_text("report.html", render_class_report(sheet, stats[0], roster, opts.decimals, regrade,
                                                              str(opts.previous_key) if opts.previous_key else None,
                                                              str(opts.key), unread))

        out.write_parts(pages, chunks, workers=feedback_parts(len(sheet.results), opts.workers),
                        meanwhile=class_files)
        out.carry("upload-receipt.json")  # what hw10 upload posted stays on record (it names the scores it posted)
        written = out.commit()
    outcome = GradeOutcome(roster, sheet, stats[0], rows=rows, regrade=regrade, skipped=skipped, unread=unread)
    top = [opts.out / w for w in written if "/" not in w]
    outcome.written.extend(top + ([opts.out / "feedback"] if len(top) < len(written) else []))
    return outcome
