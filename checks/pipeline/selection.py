"""``--questions`` selections such as ``1-5,9``, ``q01,q03``, ``q2-q4`` or ``all``."""
from __future__ import annotations

import re

from grader.errors import InputError

_ONE = re.compile(r"^q?0*(\d+)$", re.IGNORECASE)


def _number(token: str, text: str, ids: list[str]) -> int:
    m = _ONE.match(token.strip())
    if not m:
        raise InputError(f"{token.strip()!r} is not a question number (use e.g. 1-5,9 or q01,q03; questions are "
                         f"{ids[0]}…{ids[-1]})", option="select", value=text)
    n = int(m.group(1))
    if f"q{n:02d}" not in ids:
        raise InputError(f"there is no question {n} (questions are {ids[0]}…{ids[-1]})", option="select", value=text)
    return n


def parse_questions(text: str | None, ids: list[str]) -> list[str]:
    """The selected question ids in bank order; ``None``/``all`` selects every question."""
    if text is None or text.strip().lower() == "all":
        return list(ids)
    chosen: set[str] = set()
    for part in text.split(","):
        if not part.strip():
            raise InputError("empty item (use e.g. 1-5,9)", option="select", value=text)
        if "-" in part:
            lo_s, _, hi_s = part.partition("-")
            lo, hi = _number(lo_s, text, ids), _number(hi_s, text, ids)
            if lo > hi:
                raise InputError(f"range {part.strip()!r} runs backwards", option="select", value=text)
            chosen.update(f"q{n:02d}" for n in range(lo, hi + 1))
        else:
            chosen.add(f"q{_number(part, text, ids):02d}")
    return [q for q in ids if q in chosen]
