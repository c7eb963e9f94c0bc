"""Errors that reach the user: each names the file (and row/column/field when known)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class InputError(Exception):
    """Unusable input. The CLI prints it and exits with code 2."""

    message: str
    """What is wrong and, where possible, what to do about it."""
    file: str | None = None
    """The offending file."""
    row: int | None = None
    """1-based row (line of the CSV, counting the header as row 1) or YAML line."""
    column: str | None = None
    """Column header, or dotted field path for YAML/JSON."""

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


def terminal_safe(text: str) -> str:
    """``text`` with every control character but newline and tab written as an escape (``\\x1b``), so that an id
    or a name from an input file cannot move the cursor, recolour or clear a TA's terminal, or hide a line behind a
    carriage return.

    >>> terminal_safe("id \\x1b[2Jx\\r!")
    'id \\\\x1b[2Jx\\\\r!'
    """
    return "".join(ch if ch in "\n\t" or (ch.isprintable() or ch == " ") else ch.encode("unicode_escape").decode()
                   for ch in text)
