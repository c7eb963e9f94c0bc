"""`hw10 grade`: read an export, grade it with a key, write every output. No printing here."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from reports.render import FeedbackRenderer, render_class_report

from .errors import InputError
from .items import QuizStats, analyse
from .key import AnswerKey, load_key
from .readers import load_pins, read_submissions
from .sheet import AttemptPolicy, ScoreSheet, grade_roster
from .spec import QuestionBank
from .submissions import Roster
from .writers import Assignment, RegradeRow, grades_rows, items_rows, regrade_diff, regrade_rows, scores_rows, write_csv


@dataclass(frozen=True)
class GradeOptions:
    export: Path
    key: Path
    out: Path
    previous_key: Path | None = None
    fmt: str = "auto"
    attempt: AttemptPolicy = "latest"
    assignment: str = "HW10 Speech Generation"
    points_possible: bool = True
    decimals: int = 4
    match: Path | None = None
    allow_pending: bool = False
    allow_fixture_key: bool = False
    """Write grades.csv even when the key has answers computed from hw10 test fixtures (demos only)."""


@dataclass
class GradeOutcome:
    roster: Roster
    sheet: ScoreSheet
    stats: QuizStats
    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Outputs deliberately not written, with the reason."""
    regrade: list[RegradeRow] | None = None


def feedback_name(student_id: str, taken: set[str]) -> str:
    """A safe, unique file stem for a student id."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", student_id).strip(".") or "student"
    base, i = stem, 2
    while stem in taken:
        stem = f"{base}-{i}"
        i += 1
    taken.add(stem)
    return stem


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


def run_grade(opts: GradeOptions, bank: QuestionBank) -> GradeOutcome:
    """``hw10 grade``: reads the key(s), pins and export, grades every student and writes scores.csv, grades.csv
    (unless withheld, see :func:`grades_withheld`), items.csv, regrade.csv (with ``--previous-key``), report.html
    and one feedback page per student into ``opts.out``; returns what was graded, written and skipped."""
    if not 0 <= opts.decimals <= 8:
        raise InputError(f"--decimals {opts.decimals} is out of range 0…8")
    if not opts.assignment.strip():
        raise InputError("--assignment is empty: grades.csv needs a gradebook column title, e.g. \"HW10 (12345)\"")
    key: AnswerKey = load_key(opts.key, bank)
    old_key = load_key(opts.previous_key, bank) if opts.previous_key else None
    pins = load_pins(opts.match, bank)
    roster = read_submissions(opts.export, bank, opts.fmt, pins)
    if not roster.submissions:
        raise InputError("no student rows in the file", file=str(opts.export))
    sheet = grade_roster(roster, bank, key, opts.attempt)
    stats = analyse(sheet)
    outcome = GradeOutcome(roster, sheet, stats)
    if old_key is not None:
        old_sheet = grade_roster(roster, bank, old_key, opts.attempt)
        outcome.regrade = regrade_diff(sheet, old_sheet)

    out = opts.out
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "feedback").mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror}", file=str(out)) from None

    def put_csv(name: str, rows: list[list[str]]) -> None:
        write_csv(out / name, rows)
        outcome.written.append(out / name)

    put_csv("scores.csv", scores_rows(sheet, opts.decimals))
    withheld = grades_withheld(key, sheet, opts)
    if withheld:
        stale = out / "grades.csv"
        if stale.exists():
            stale.unlink()
        outcome.skipped.extend(withheld)
    else:
        put_csv("grades.csv", grades_rows(sheet, Assignment(opts.assignment), opts.decimals, opts.points_possible))
    put_csv("items.csv", items_rows(stats, sheet))
    if outcome.regrade is not None:
        put_csv("regrade.csv", regrade_rows(outcome.regrade, opts.decimals))
    elif (out / "regrade.csv").exists():
        (out / "regrade.csv").unlink()  # from an earlier run with --previous-key: it would describe another key
    report = render_class_report(sheet, stats, roster, opts.decimals, outcome.regrade,
                                 str(opts.previous_key) if opts.previous_key else None, str(opts.key))
    (out / "report.html").write_text(report, encoding="utf-8")
    outcome.written.append(out / "report.html")

    fb = out / "feedback"
    for old in list(fb.glob("*.html")) + list(fb.glob("*.md")):
        old.unlink()
    taken: set[str] = set()
    renderer = FeedbackRenderer(sheet, opts.decimals)
    for r in sheet.results:
        stem = feedback_name(r.student_id, taken)
        html, md = renderer.render(r)
        (fb / f"{stem}.html").write_text(html, encoding="utf-8")
        (fb / f"{stem}.md").write_text(md, encoding="utf-8")
    outcome.written.append(fb)
    return outcome
