"""Who is who in an input file: two different people are never merged under one id, and an id a spreadsheet has
mangled is refused instead of silently joining other students.

* **One id, one person.** Rows sharing an id are attempts of one student only when they also agree on the name,
  the SIS id and the section (where the file has them): otherwise two people would be merged and one would
  vanish from the grades. Refused, naming both rows.
* **Spreadsheet-mangled ids.** Excel turns ``148200`` into ``1.48E+05`` (scientific notation: many students
  collapse into one id), ``148200.0`` (a float), or drops leading zeros (``012345`` → ``12345``). An id in
  scientific notation or with a ``.0`` tail, and an all-digit id shorter than the class's all-digit ids that
  start with ``0`` (when such ids exist), is refused with the reason.

Pure; raises :class:`grader.errors.InputError` (exit 2) with file, row and column.

>>> mangled_reason("1.48E+05", set())
'scientific notation (1.48E+05): a spreadsheet turned the number into an approximation'
>>> mangled_reason("12345", {6}) is not None and mangled_reason("148200", set()) is None
True
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from .errors import InputError
from .submissions import Submission

_SCIENTIFIC = re.compile(r"[+-]?\d+(\.\d+)?[eE][+-]?\d+")
_FLOAT_TAIL = re.compile(r"\d+\.0+")
FIELDS = (("name", "name"), ("sis_id", "sis_id"), ("section", "section"))
"""Submission attribute → column name in messages: what must agree for two rows to be one person."""


def zero_padded_lengths(ids: Sequence[str]) -> set[int]:
    """Lengths of the all-digit ids that start with ``0``: the class's ids are zero-padded to those lengths."""
    return {len(i) for i in ids if i.isdigit() and i.startswith("0")}


def mangled_reason(student_id: str, padded: set[int]) -> str | None:
    """Why ``student_id`` looks mangled by a spreadsheet (module docstring), or ``None``. ``padded``: the lengths
    of the class's zero-padded ids (:func:`zero_padded_lengths`)."""
    if _SCIENTIFIC.fullmatch(student_id):
        return f"scientific notation ({student_id}): a spreadsheet turned the number into an approximation"
    if _FLOAT_TAIL.fullmatch(student_id):
        return f"a number with a decimal tail ({student_id}): a spreadsheet turned the id into a float"
    if student_id.isdigit() and not student_id.startswith("0") and padded and len(student_id) < min(padded):
        return (f"{len(student_id)} digits where the class's ids are zero-padded to {min(padded)}: a spreadsheet "
                "dropped its leading zeros")
    return None


def check_people(submissions: Sequence[Submission], path: str) -> None:
    """Refuse (exit 2) mangled ids and rows that share an id but not the person (module docstring)."""
    padded = zero_padded_lengths([s.student_id for s in submissions])
    first: dict[str, Submission] = {}
    for sub in submissions:
        reason = mangled_reason(sub.student_id, padded)
        if reason:
            how_many = Counter(s.student_id for s in submissions)[sub.student_id]
            raise InputError(f"the id {sub.student_id!r} looks mangled: {reason}"
                             + (f" ({how_many} rows carry it)" if how_many > 1 else "")
                             + "; export the file from NTU COOL again, or open it in the spreadsheet as text",
                             file=path, row=sub.row, column="id")
        seen = first.setdefault(sub.student_id, sub)
        if seen is sub:
            continue
        for attr, column in FIELDS:
            a, b = getattr(seen, attr).strip(), getattr(sub, attr).strip()
            if a != b:
                raise InputError(f"rows {seen.row} and {sub.row} share the id {sub.student_id!r} but not the "
                                 f"{column} ({a!r} vs {b!r}): two different people under one id; fix the id of "
                                 "one of them", file=path, row=sub.row, column=column)
