"""File names for per-student outputs: unique (also where case does not count), stable, and safe everywhere.

An id made only of ASCII letters, digits, ``_`` and ``-`` (at most 64), that is not a name Windows reserves
(``CON``, ``NUL``, ``COM1`` …) and that no other id of the class equals when case is ignored, is its own file
name: ``B09901001`` → ``B09901001.html``. Every other id gets a readable part (unsafe characters as ``_``, at
most 40) and ``~`` with 16 hex digits of its SHA-256: ``a/b`` → ``a_b~…``, ``ABC`` and ``abc`` in one class →
``ABC~…`` and ``abc~…``. Plain names never contain ``~``, so the two kinds never meet; the hash makes a name
depend on the id alone, never on the order of the rows.

>>> names = feedback_names(["B09901001", "a/b", "a_b", "ABC", "abc", "con"])
>>> names["B09901001"], names["a_b"]
('B09901001', 'a_b')
>>> names["a/b"].startswith("a_b~") and names["con"].startswith("con~")
True
>>> len({n.casefold() for n in names.values()}) == 6
True
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Sequence

_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                              *(f"lpt{i}" for i in range(10))})


def feedback_names(ids: Sequence[str]) -> dict[str, str]:
    """Per id, the file stem of its outputs (module docstring)."""
    plain = {i for i in ids if _PLAIN.fullmatch(i) and i.lower() not in WINDOWS_RESERVED}
    folded = Counter(i.casefold() for i in plain)
    out = {}
    for i in ids:
        if i in plain and folded[i.casefold()] == 1:
            out[i] = i
        else:
            readable = _UNSAFE.sub("_", i).strip("_")[:40] or "student"
            out[i] = f"{readable}~{hashlib.sha256(i.encode('utf-8')).hexdigest()[:16]}"
    return out
