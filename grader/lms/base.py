"""The seam between hw10 and a learning-management system (nbgrader's ``exchange/abc`` is the model): what hw10
needs of an LMS, as three roles, each an abstract class an implementation fills in its own folder
(``grader/lms/canvas/`` for NTU COOL, a Canvas fork):

* :class:`ExportReader` — reads the LMS's quiz export (one row per attempt) into a :class:`grader.submissions.Roster`:
  ``hw10 grade --format auto`` asks each registered reader whether it recognises a file's header;
* :class:`Gradebook` — the LMS's gradebook import file that ``hw10 grade`` writes (``grades.csv``): which column
  titles it reads as an existing assignment, and the rows;
* :class:`Service` — the LMS's API, where it has one: fetch the export (``hw10 fetch``) and post grades with feedback
  (``hw10 upload``). Its options are the implementation's own (an address, course and quiz ids …).

An :class:`LMS` names one implementation of all three; :mod:`grader.lms` registers them. A new LMS is its folder and
one registry row: nothing else in hw10 names an LMS.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from grader.readers.csvfile import TableStream
    from grader.readers.pins import MatchPins
    from grader.sheet import ScoreSheet
    from grader.spec import QuestionBank
    from grader.submissions import Roster


class ExportReader(ABC):
    """Reads an LMS's quiz export."""

    format: str
    """The ``--format`` name (e.g. ``ntucool``)."""
    title: str
    """What the file is, for messages (e.g. ``NTU COOL Student Analysis export``)."""
    columns_hint: str
    """The columns that identify it, for the "not a recognised file" message."""

    @abstractmethod
    def recognises(self, header: list[str]) -> bool:
        """Whether a CSV whose first row is ``header`` is this LMS's export."""

    @abstractmethod
    def read(self, table: "TableStream", bank: "QuestionBank", pins: "MatchPins") -> "Roster":
        """Every row of the export as a submission; problems named by file, row and column."""


@dataclass(frozen=True)
class Column:
    """A gradebook column title as the LMS reads it."""

    header: str
    """The whole title, as written into the gradebook file."""
    title: str
    """The title part."""
    id: int | None
    """The assignment the LMS fills from it (None: the import adds a new assignment)."""


class Gradebook(ABC):
    """An LMS's gradebook import file."""

    @abstractmethod
    def column(self, text: str, *, option: str = "--assignment") -> Column:
        """``text`` as this LMS reads a column title; an :class:`grader.errors.InputError` for a spelling it would
        silently read otherwise than it seems to say."""

    @abstractmethod
    def rows(self, sheet: "ScoreSheet", column: Column, decimals: int, points_possible: bool = True) -> list[list[str]]:
        """The gradebook file's rows: every student of ``sheet`` with their total under ``column``."""


class Service(ABC):
    """An LMS's API: fetching the quiz export and posting grades (each implementation takes its own options)."""

    @abstractmethod
    def fetch_export(self, **options: Any) -> Any:
        """Save the quiz export (what ``hw10 fetch`` does)."""

    @abstractmethod
    def upload(self, **options: Any) -> Any:
        """Post the grades of an ``hw10 grade`` output folder (what ``hw10 upload`` does)."""


@dataclass(frozen=True)
class LMS:
    """One learning-management system hw10 works with."""

    name: str
    """Its registry name (``ntucool``)."""
    title: str
    """Its name for people (``NTU COOL``)."""
    export: ExportReader
    gradebook: Gradebook
    service: Service | None = None
    """None: no API (the TA downloads the export and imports the gradebook file by hand)."""
