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
    option: str | None = None
    """The option the error is about, by its field name in the verb's options (``select``, ``device`` …): the
    command line writes it as its flag (``--questions``), the notebook as its keyword argument (``questions=``); see
    :meth:`phrased`."""
    value: object = None
    """That option's value as given (shown after its name), when the error is about the value."""

    def phrased(self, name: str | None = None, *, keyword: bool = False) -> str:
        """The error with its option written as ``name`` (a flag such as ``--questions``, or with ``keyword`` a
        keyword argument such as ``questions``); ``name`` None: the field name as a flag (``--mimi-revision``)."""
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        message = self.message
        if self.option:
            name = name or ("" if keyword else "--") + (self.option if keyword else self.option.replace("_", "-"))
            shown = (f"{name}={self.value!r}" if keyword else f"{name} {self.value!r}") if self.value is not None \
                else name
            message = f"{shown}: {message}"
        prefix = ", ".join(where)
        return f"{prefix}: {message}" if prefix else message

    def __str__(self) -> str:
        return self.phrased()


def terminal_safe(text: str) -> str:
    """``text`` with every control character but newline and tab written as an escape (``\\x1b``), so that an id
    or a name from an input file cannot move the cursor, recolour or clear a TA's terminal, or hide a line behind a
    carriage return.

    >>> terminal_safe("id \\x1b[2Jx\\r!")
    'id \\\\x1b[2Jx\\\\r!'
    """
    return "".join(ch if ch in "\n\t" or (ch.isprintable() or ch == " ") else ch.encode("unicode_escape").decode()
                   for ch in text)
