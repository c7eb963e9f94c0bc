"""NTU COOL (a Canvas fork): hw10's LMS implementation (:mod:`grader.lms.base`), every Canvas assumption in this one
folder — the Student Analysis export (:mod:`.export`), the gradebook import (:mod:`.gradebook`), the REST client
(:mod:`.client`) and what ``hw10 fetch`` and ``hw10 upload`` do with it (:mod:`.fetch`, :mod:`.upload`). The shapes
of Canvas's answers are taken from canvas-lms's own source (cited where each is handled)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from grader.lms.base import LMS, Column, ExportReader, Gradebook, Service

from . import export, gradebook


class StudentAnalysis(ExportReader):
    """The classic quiz's "Student Analysis" CSV (:mod:`grader.lms.canvas.export`)."""

    format = "ntucool"
    title = "NTU COOL Student Analysis export"
    columns_hint = "columns 'id' and '<number>: <question>'"

    def recognises(self, header):  # noqa: D102 - the base class says it
        return export.looks_like_ntucool(header)

    def read(self, table, bank, pins):  # noqa: D102
        return export.read_ntucool(table, bank, pins)


class CanvasGradebook(Gradebook):
    """The gradebook import CSV (``Student, ID, SIS Login ID, Section, Title (id)``; :mod:`.gradebook`)."""

    def column(self, text: str, *, option: str = "--assignment") -> Column:  # noqa: D102
        return gradebook.assignment_column(text, option=option)

    def rows(self, sheet, column: Column, decimals: int, points_possible: bool = True):  # noqa: D102
        return gradebook.gradebook_rows(sheet, column, decimals, points_possible)


class CanvasService(Service):
    """Canvas's REST API for ``hw10 fetch`` and ``hw10 upload``: the client is made here, from the base URL and the
    token (``CANVAS_API_TOKEN``), bounded by ``timeout`` seconds per answer."""

    def client(self, base_url: str, *, timeout: float, log: Callable[[str], None]):
        """A :class:`~grader.lms.canvas.client.Canvas` client for ``base_url`` with the token from the environment."""
        from .client import Canvas, token_from_env  # deferred: urllib and ssl load only for the API verbs

        return Canvas(base_url, token_from_env(), log=log, deadline=timeout, timeout=min(30.0, timeout))

    def fetch_export(self, *, base_url: str, course: int, quiz: int, out: Path, all_attempts: bool = True,
                     wait_s: float = 600.0, timeout: float = 120.0, force: bool = False,
                     progress: Callable[[str], None] = lambda text: None):
        """:func:`grader.lms.canvas.fetch.fetch_report` with a client for ``base_url``."""
        from .fetch import fetch_report  # deferred: as above

        return fetch_report(self.client(base_url, timeout=timeout, log=progress), course, quiz, out,
                            all_attempts=all_attempts, wait_s=wait_s, force=force, progress=progress)

    def upload(self, *, base_url: str, course: int, assignment: str, folder: Path, key: Path, bank, yes: bool = False,
               comments: bool = False, force: bool = False, include_excused: bool = False, timeout: float = 120.0,
               progress: Callable[[str], None] = lambda text: None):
        """:func:`grader.lms.canvas.upload.upload` with a client for ``base_url``; ``assignment``: its id or
        ``"Title (id)"``."""
        from .upload import upload  # deferred: as above

        return upload(self.client(base_url, timeout=timeout, log=progress), course, gradebook.assignment_id(assignment),
                      folder, key, bank, yes=yes, comments=comments, force=force, include_excused=include_excused,
                      progress=progress)


NTU_COOL = LMS(name="ntucool", title="NTU COOL", export=StudentAnalysis(), gradebook=CanvasGradebook(),
               service=CanvasService())
"""NTU COOL, as :mod:`grader.lms` registers it."""
