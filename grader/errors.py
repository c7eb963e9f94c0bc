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
