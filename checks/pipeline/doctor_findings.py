"""``hw10 doctor``'s report: a :class:`Finding` is one line (``✓ step: text`` or ``✗ step: text — fix``),
:class:`Doctor` is what every step looks at (the options, the bank, the selected questions, the Hub's endpoint),
:func:`report_json` the findings for a notebook. The steps are :mod:`checks.pipeline.doctor`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from checks.pipeline.options import KeyRunOptions
from grader.spec import QuestionBank

if TYPE_CHECKING:  # pragma: no cover
    from checks.pipeline.doctor_models import HubAnswer

HF_SITE = "https://huggingface.co"
DEFAULT_TIMEOUT_S = 10.0
"""Seconds a network question may take before "no network" is the answer."""


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    step: str
    text: str
    """What was found (one line)."""
    problem: bool = False
    """The run cannot go (or a question would be pending) until this is fixed."""
    fix: str = ""
    """What to do about a problem."""
    stops_key: bool = True
    """``hw10 key`` stops on this problem before loading models (a missing asset does not: its questions are
    written as pending, as ``hw10 key`` always did)."""

    def line(self) -> str:
        """The report line: ``✓ step: text`` or ``✗ step: text — fix``."""
        mark = "✗" if self.problem else "✓"
        return f"{mark} {self.step}: {self.text}" + (f" — {self.fix}" if self.problem and self.fix else "")


@dataclass
class Doctor:
    """What the steps look at."""

    options: KeyRunOptions
    bank: QuestionBank
    endpoint: str = HF_SITE
    timeout: float = DEFAULT_TIMEOUT_S
    selected: list[str] = field(default_factory=list)
    unreachable: dict[str, "HubAnswer"] = field(default_factory=dict)
    """Endpoints found unreachable in this examination (each asked once)."""

    def needs(self, model: str) -> bool:
        """Whether a selected question uses ``model`` (``mimi``, ``csm``, ``asr``, ``speaker``)."""
        return any(model in self.bank[q].check.models for q in self.selected)

    def thresholds_of(self, asset: str) -> dict:
        """The thresholds of every selected question that uses ``asset`` (merged)."""
        out: dict = {}
        for q in self.selected:
            if asset in self.bank[q].check.assets:
                out.update(self.bank[q].thresholds)
        return out


def report_json(findings: list[Finding]) -> str:
    """The findings as JSON (for a notebook)."""
    return json.dumps([f.__dict__ for f in findings], ensure_ascii=False, indent=1)
