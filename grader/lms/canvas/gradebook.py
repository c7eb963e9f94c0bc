"""The gradebook column title that names an assignment, as Canvas's gradebook importer reads it.

Canvas (app/models/gradebook_importer.rb, through ``Assignment.title_and_id`` in app/models/assignment.rb) takes an
assignment id from a column header only when the whole header matches ``/\\A(.*)\\s\\((\\d+)\\)\\z/``: the title,
one blank, the id in ASCII digits in parentheses, nothing after. Any other spelling (``HW10(123)``, ``HW10 (123)``
with a blank after it, ``HW10 (#123)``, full-width ``（123）``, an id alone) is read as a *title*, and the import
silently adds a new assignment column instead of filling the existing one. :func:`assignment_column` accepts
exactly Canvas's spelling, or a plain title (a new column, on purpose), and refuses the near misses;
:func:`assignment_id` is ``hw10 upload``'s reading of ``--assignment``: an id, or a title with one.
"""
from __future__ import annotations

import re

from grader.errors import InputError
from grader.lms.base import Column
from grader.scoring import fmt_points
from grader.writers import safe_cell

_CANVAS = re.compile(r"(.*)[ \t\r\n\f\v]\(([0-9]+)\)", re.DOTALL)
"""Ruby's ``\\s`` and ``\\d`` are ASCII-only, so they are spelt out (Python's would take U+3000 and other digits)."""
_NEAR = re.compile(r"[(（﹙⁽₍\[【［]\s*#?\s*[0-9０-９]+\s*[)）﹚⁾₎\]】］]|^\s*[0-9０-９]+\s*$")
_DIGITS = re.compile(r"[0-9０-９]+")
EXAMPLE = "HW10 Speech Generation (12345)"


def assignment_column(text: str, *, option: str = "--assignment") -> Column:
    """``text`` as a gradebook column header, or an :class:`~grader.errors.InputError` (exit 2) for a spelling Canvas
    would not read an id from although it seems to hold one, an empty one, or one with a control character.

    >>> assignment_column("HW10 (123)")
    Column(header='HW10 (123)', title='HW10', id=123)
    >>> assignment_column("HW10 Speech Generation").id is None
    True
    >>> assignment_column("HW10(123)")
    Traceback (most recent call last):
    ...
    grader.errors.InputError: --assignment 'HW10(123)': NTU COOL reads an assignment id only from "Title (id)" \
exactly (the title, one space, the id in parentheses, nothing after), so this spelling would add a new column on \
import; write it "HW10 (123)"
    """
    if any(ord(ch) < 32 or ord(ch) == 127 or ch in "\u0085\u2028\u2029" for ch in text):
        raise InputError(f"{option} {text!r} holds a line break or a control character: give the gradebook column "
                         f'title on one line, e.g. "{EXAMPLE}"')
    if not text.strip():
        raise InputError(f'{option} is empty: give the gradebook column title, e.g. "{EXAMPLE}"')
    m = _CANVAS.fullmatch(text)
    if m and int(m.group(2)) > 0:
        return Column(text, m.group(1), int(m.group(2)))
    if m or _NEAR.search(text):
        digits = _DIGITS.findall(text)
        ident = int(digits[-1].translate(str.maketrans("０１２３４５６７８９", "0123456789"))) if digits else 0
        title = _NEAR.sub("", text).strip()
        fix = (f'; write it "{title} ({ident})"' if ident > 0 and title else
               f'; give the title too, e.g. "HW10 Speech Generation ({ident})"' if ident > 0 else f'; e.g. "{EXAMPLE}"')
        raise InputError(f'{option} {text!r}: NTU COOL reads an assignment id only from "Title (id)" exactly (the '
                         "title, one space, the id in parentheses, nothing after), so this spelling would add a new "
                         f"column on import{fix}")
    return Column(text, text, None)


def assignment_id(text: str, *, option: str = "--assignment") -> int:
    """The assignment id in ``text``: the id alone (``12345``) or Canvas's ``Title (12345)``; anything else is an
    :class:`~grader.errors.InputError` saying what to give.

    >>> assignment_id("12345"), assignment_id("HW10 (12345)")
    (12345, 12345)
    """
    if text.strip().isascii() and text.strip().isdigit() and int(text) > 0:
        return int(text)
    column = assignment_column(text, option=option)
    if column.id is None:
        raise InputError(f"{option} {text!r} names no assignment: give its id (the number after /assignments/ in "
                         f'NTU COOL\'s address bar) or "Title (id)", e.g. "{EXAMPLE}"')
    return column.id


def gradebook_rows(sheet, column: Column, decimals: int, points_possible: bool = True) -> list[list[str]]:
    """The rows of grades.csv, NTU COOL's gradebook import (gradebook_importer.rb): ``Student, ID, SIS Login ID,
    Section`` and the total under the ``column`` header, after a "Points Possible" row when ``points_possible``;
    every cell neutralised against formula injection."""
    rows = [["Student", "ID", "SIS Login ID", "Section", safe_cell(column.header)]]
    if points_possible:
        rows.append(["    Points Possible", "", "", "", fmt_points(sheet.max_total, decimals)])
    for r in sheet.results:
        rows.append([safe_cell(r.name), safe_cell(r.student_id), safe_cell(r.sis_id), safe_cell(r.section),
                     fmt_points(r.total, decimals)])
    return rows
