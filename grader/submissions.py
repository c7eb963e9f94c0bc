"""What the readers produce: one Submission per student attempt, plus how columns were matched."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CellProblem:
    """A cell that could not be read as intended; the student is still graded on the rest."""

    qid: str
    row: int | None
    column: str
    message: str
    texts: tuple[str, ...] = ()
    """The pieces of the cell that match no choice (what a ``--match`` pin can map to an option letter)."""

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{self.qid}: {self.message} ({where}column {self.column!r})"


@dataclass(slots=True)
class Submission:
    """One student's answers from one row (one attempt) of an input file."""

    student_id: str
    name: str = ""
    section: str = ""
    sis_id: str = ""
    answers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Selected letters per question; a question absent here (or empty) was left blank."""
    problems: list[CellProblem] = field(default_factory=list)
    """Cells that could not be read; those questions are scored on what could be read."""
    notes: list[str] = field(default_factory=list)
    """Things worth telling the TA that are not problems (attempt chosen, duplicates merged)."""
    row: int | None = None
    """Record number in the input file (header = 1)."""
    attempt: int | None = None
    """Attempt number from the export, if it has one."""
    order: int = 0
    """Position among this student's rows in the file (0 = first row = newest in NTU COOL)."""


@dataclass(frozen=True)
class MatchNote:
    """A fuzzy match the reader made (reported so a TA can check it), or a pin that was applied."""

    what: str
    """'question' or 'choice'."""
    qid: str
    found: str
    """Text as it appears in the export."""
    matched: str
    """Question id or option letter it was matched to."""
    score: float
    how: str
    """'fuzzy', 'pinned' or 'ignored'."""

    def __str__(self) -> str:
        return f"{self.what} {self.qid}: {self.found!r} → {self.matched} ({self.how}, similarity {self.score:.2f})"


@dataclass
class Roster:
    """Everything read from one input file."""

    path: str
    format: str
    """'ntucool', 'plain-csv' or 'single'."""
    encoding: str
    submissions: list[Submission]
    matches: list[MatchNote] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
