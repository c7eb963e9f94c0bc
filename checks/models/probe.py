"""What a model adapter tells ``hw10 doctor`` before any weights load: :class:`ProbeLine`, one line of what it found,
and :class:`ProbeTools`, what the doctor lends a probe (the Hub's answer for a repository, a local folder checked,
an HTTP GET with the doctor's timeout), so an adapter's probe needs nothing of the doctor itself.

An ASR backend's probe is a column of its registry row (:mod:`checks.models.asr.registry`); the doctor labels each
line with the model (``ASR: …``) and prints it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol


@dataclass(frozen=True)
class ProbeLine:
    """One finding of a model probe, without its label."""

    text: str
    """What was found (one line)."""
    problem: bool = False
    """The run cannot use this model until this is fixed."""
    fix: str = ""
    """What to do about a problem."""


class ProbeTools(Protocol):
    """What the doctor lends a probe."""

    timeout: float
    """Seconds a network question may take."""

    def hub(self, repo: str, revision: str | None = None) -> list[ProbeLine]:
        """Whether this machine may read ``repo`` from the Hub (or has it cached), asked once per examination."""
        ...

    def local_folder(self, ref: str, check: Callable[[Path], object] | None = None) -> list[ProbeLine]:
        """``ref`` is a folder and ``check`` (raising :class:`grader.errors.InputError`) accepts it."""
        ...

    def get(self, url: str) -> int:
        """The HTTP status of a GET of ``url`` (no token); raises :class:`OSError` when it cannot be reached within
        :attr:`timeout`."""
        ...
