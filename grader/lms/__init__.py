"""The learning-management systems hw10 works with, behind one interface (:mod:`grader.lms.base`): the registry.

NTU COOL (``grader/lms/canvas/``) is the one there is. A new LMS is a folder beside it implementing
:class:`~grader.lms.base.ExportReader`, :class:`~grader.lms.base.Gradebook` and (where it has an API)
:class:`~grader.lms.base.Service`, and one row in :data:`REGISTRY`.
"""
from __future__ import annotations

from grader.errors import InputError
from grader.lms.base import LMS
from grader.lms.canvas import NTU_COOL

REGISTRY: dict[str, LMS] = {NTU_COOL.name: NTU_COOL}
"""Every LMS by name."""
DEFAULT = NTU_COOL.name
"""The LMS the command line works with."""

__all__ = ["DEFAULT", "LMS", "REGISTRY", "lms_named"]


def lms_named(name: str = DEFAULT) -> LMS:
    """The registered LMS ``name``; an :class:`InputError` naming the registered ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown LMS {name!r} (hw10 knows {', '.join(sorted(REGISTRY))})") from None
