"""The HW10 question bank: ``q01.yaml`` … ``q12.yaml`` shipped as package data.

Use :func:`grader.spec.load_bank` to read and validate them.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def bank_dir() -> Path:
    """Folder holding the installed question specs (works for editable and wheel installs)."""
    return Path(str(resources.files(__name__)))
