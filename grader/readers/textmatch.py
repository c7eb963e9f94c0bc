"""Tolerant text matching between what a TA typed into NTU COOL and the question bank.

Canvas shows what the TA typed, not the slides' markdown: no backticks, no ``\\_`` escapes, no
LaTeX ``$…$``, maybe no "選擇題:" label, full-width or half-width punctuation, HTML stripped.
:func:`normalise` removes all of that; :func:`similarity` compares normalised strings.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

_LABEL = re.compile(r"^\s*(多重選擇題|多選題|單選題|選擇題)\s*[:：]\s*")
_TAG = re.compile(r"<[^>]+>")
_TEXTCMD = re.compile(r"\\(?:text|mathrm|textrm|texttt|operatorname)\{([^{}]*)\}")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "、": ","})


def normalise(text: str) -> str:
    """Canonical form for matching: NFKC, no markup, no label, no whitespace, lower case."""
    t = html.unescape(text or "")
    t = _TAG.sub(" ", t)
    t = unicodedata.normalize("NFKC", t)
    t = _LABEL.sub("", t)
    for _ in range(3):  # nested \text{...}
        t = _TEXTCMD.sub(r"\1", t)
    t = t.replace("\\_", "_").replace("\\,", ",").replace("$", "").replace("`", "").replace("*", "")
    t = t.translate(_QUOTES)
    t = re.sub(r"\s+", "", t)
    t = t.rstrip("。.;；")
    return t.casefold()


def similarity(a: str, b: str) -> float:
    """Similarity of two already-normalised strings in [0, 1]."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


@dataclass(frozen=True)
class Match:
    """Result of matching one text against candidates."""

    target: str | None
    """The chosen candidate key, or None."""
    score: float
    runner_up: float
    exact: bool


def best_match(text: str, candidates: dict[str, str], min_score: float, min_margin: float) -> Match:
    """Match ``text`` to the candidate (key → text) with a clear winner, else target None.

    Exact normalised equality always wins. Otherwise the best similarity must reach
    ``min_score`` and beat the runner-up by ``min_margin``."""
    n = normalise(text)
    scored = sorted(((similarity(n, normalise(c)), k) for k, c in candidates.items()), reverse=True)
    if not scored:
        return Match(None, 0.0, 0.0, False)
    best, key = scored[0]
    second = scored[1][0] if len(scored) > 1 else 0.0
    if best == 1.0 and second < 1.0:
        return Match(key, best, second, True)
    if best >= min_score and best - second >= min_margin:
        return Match(key, best, second, False)
    return Match(None, best, second, False)
