"""What the verbs share: exit statuses, argument types, one-line text and the question bank."""
from __future__ import annotations

from grader.spec import QuestionBank, load_bank

__all__ = ["EXIT_DISAGREE", "EXIT_INPUT", "EXIT_OK", "EXIT_WITHHELD", "bank", "one_line"]

EXIT_OK, EXIT_DISAGREE, EXIT_INPUT = 0, 1, 2
"""Done; a disagreement (``hw10 verify``) or grades not shown by NTU COOL after an upload; bad input (a one-line
``error:`` on stderr, nothing written)."""
EXIT_WITHHELD = 3
"""``hw10 grade`` wrote its files but withheld grades.csv (a key with pending, in-review or fixture answers): the last
line says why, so that a script going on to import or upload notices."""


def bank(questions_dir: str | None) -> QuestionBank:
    """The question bank of ``--questions-dir`` (default: the installed one)."""
    return load_bank(questions_dir)


def one_line(text: str, width: int = 160) -> str:
    """``text`` on one line, whitespace collapsed, cut with … at ``width`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
