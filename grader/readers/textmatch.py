"""Tolerant text matching between what a TA typed into NTU COOL and the question bank.

Canvas shows what the TA typed, not the slides' markdown: no backticks, no ``\\_`` escapes, no
LaTeX ``$…$``, maybe no "選擇題:" label, full-width or half-width punctuation, HTML stripped.
:func:`normalise` removes all of that; :func:`similarity` compares normalised strings.
"""
from __future__ import annotations

import html
import re
import unicodedata
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


def similarity_bound(a: str, b: str) -> float:
    """An upper bound of :func:`similarity` (equal for equal strings), in linear time: what two strings share as
    multisets of characters.

    >>> similarity_bound("abcd", "dcba") >= similarity("abcd", "dcba")
    True
    """
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).quick_ratio()


_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|$])")


def unescape_markdown(text: str) -> str:
    r"""``text`` without the Markdown backslash escapes the homework's appendix carries, for display.

    >>> unescape_markdown(r"split\_index = 2, batch\_size")
    'split_index = 2, batch_size'
    """
    return _MD_ESCAPE.sub(r"\1", text)
