"""CSV outputs: scores.csv, items.csv, regrade.csv (grades.csv, the LMS's gradebook import, is the LMS's own:
:class:`grader.lms.base.Gradebook`).

All are UTF-8 with a BOM (Excel on a Taiwanese machine reads them right), CRLF line ends, and
every text cell that a spreadsheet would run as a formula is neutralised.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .items import QuizStats
from .scoring import fmt_points
from .sheet import ScoreSheet, StudentResult

NOT_GRADED = "not graded"
_FORMULA_START = frozenset("=+-@\t\r\n")


def safe_cell(value: object) -> str:
    """Neutralise CSV/formula injection: a text cell starting with = + - @ (full-width too) or a control character
    gets a quote.

    >>> safe_cell("=1+1"), safe_cell("＝HYPERLINK(x)"), safe_cell("-3"), safe_cell("王冠宇"), safe_cell(None)
    ("'=1+1", "'＝HYPERLINK(x)", "'-3", '王冠宇', '')
    """
    text = "" if value is None else str(value)
    first = text[:1]
    # full-width ＝ ＋ － ＠ count: a spreadsheet may fold them to their ASCII forms (NFKC leaves ASCII as it is, and
    # scores.csv has 800,000 cells at 100,000 students: only a first character beyond ASCII is normalised)
    if first in _FORMULA_START or (first > "\x7f" and unicodedata.normalize("NFKC", first)[:1] in _FORMULA_START):
        return "'" + text
    return text


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows(rows)
    return buf.getvalue()


def csv_bytes(rows: list[list[str]]) -> bytes:
    """``rows`` as UTF-8 with a BOM and CRLF line ends (cells are not neutralised here)."""
    return ("\ufeff" + _csv_text(rows)).encode("utf-8")


def write_csv(path: Path, rows: list[list[str]]) -> None:
    """Write ``rows`` to ``path`` as :func:`csv_bytes`."""
    path.write_bytes(csv_bytes(rows))


def scores_rows(sheet: ScoreSheet, decimals: int, feedback: dict[str, str] | None = None) -> list[list[str]]:
    """The rows of scores.csv: per student id, name, section, the points of every question (or "not graded"),
    total, status, notes and (with ``feedback``, id → file stem) the student's feedback file."""
    header = ["id", "name", "section", *sheet.bank.ids, "total", "status", "notes"]
    rows = [header + (["feedback"] if feedback is not None else [])]
    # grading shares one score object per distinct selection: format each object's points once (by identity: a
    # Fraction's hash costs more than formatting a few)
    cell: dict[int, str] = {}

    def fmt(score) -> str:
        if id(score) not in cell:
            cell[id(score)] = fmt_points(score.points, decimals) if score.graded else NOT_GRADED
        return cell[id(score)]

    for r in sheet.results:
        cells = [fmt(r.scores[q]) for q in sheet.bank.ids]
        row = [safe_cell(r.student_id), safe_cell(r.name), safe_cell(r.section), *cells,
               fmt_points(r.total, decimals), r.status, safe_cell(" | ".join(r.notes))]
        if feedback is not None:
            row.append(f"feedback/{feedback[r.student_id]}.html")
        rows.append(row)
    return rows


def _f(x: float | None, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def items_rows(stats: QuizStats, sheet: ScoreSheet) -> list[list[str]]:
    """The rows of items.csv: per graded question its key, difficulty, discrimination, blank share, per-option shares
    and flags; a row per question not graded and a last ``quiz`` row with KR-20 and alpha."""
    letters = max(len(s.options) for s in sheet.bank)
    header = ["question", "kind", "key", "students", "difficulty", "discrimination_pbis", "upper_minus_lower",
              "blank"]
    for i in range(letters):
        L = chr(65 + i)
        header += [f"{L}_share", f"{L}_upper", f"{L}_lower", f"{L}_pbis"]
    header += ["flags"]
    rows = [header]
    for it in stats.items:
        key = "".join(o.letter for o in it.options if o.keyed_correct)
        row = [it.qid, it.kind, key, str(it.n), _f(it.difficulty), _f(it.discrimination), _f(it.upper_lower),
               _f(it.blank_share)]
        for i in range(letters):
            if i < len(it.options):
                o = it.options[i]
                row += [_f(o.share), _f(o.share_upper), _f(o.share_lower), _f(o.point_biserial)]
            else:
                row += ["", "", "", ""]
        rows.append(row + [" | ".join(it.flags)])
    for qid in stats.not_graded:
        rows.append([qid, sheet.bank[qid].kind, "", str(stats.n)] + [NOT_GRADED] + [""] * (len(header) - 5))
    rows.append(["quiz", "", "", str(stats.n), "", "", "", ""] + [""] * (4 * letters) +
                [f"KR-20 {_f(stats.kr20)}; alpha {_f(stats.alpha)}"])
    return rows


@dataclass(frozen=True)
class RegradeRow:
    result: StudentResult
    old_total: Fraction
    new_total: Fraction
    changed: list[tuple[str, Fraction | None, Fraction | None]]

    @property
    def delta(self) -> Fraction:
        return self.new_total - self.old_total


def regrade_diff(new: ScoreSheet, old: ScoreSheet) -> list[RegradeRow]:
    """Per student (same order as ``new``) old and new totals and the questions whose points moved."""
    old_by_id = {r.student_id: r for r in old.results}
    out = []
    for r in new.results:
        o = old_by_id[r.student_id]
        changed = [(q, o.scores[q].points, r.scores[q].points) for q in new.bank.ids
                   if o.scores[q].points != r.scores[q].points]
        out.append(RegradeRow(r, o.total, r.total, changed))
    return out


def regrade_rows(diff: list[RegradeRow], decimals: int) -> list[list[str]]:
    """The rows of regrade.csv: per student old and new totals, the change, and each question whose points moved."""
    rows = [["id", "name", "section", "old_total", "new_total", "delta", "changed"]]

    def pts(x: Fraction | None) -> str:
        return NOT_GRADED if x is None else fmt_points(x, decimals)

    for d in diff:
        changed = "; ".join(f"{q} {pts(a)}→{pts(b)}" for q, a, b in d.changed)
        rows.append([safe_cell(d.result.student_id), safe_cell(d.result.name), safe_cell(d.result.section),
                     fmt_points(d.old_total, decimals), fmt_points(d.new_total, decimals),
                     fmt_points(d.delta, decimals), changed])
    return rows
