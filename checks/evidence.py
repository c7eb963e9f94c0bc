"""What a check hands back: :class:`Evidence` (measurements + per-option verdicts) and :class:`Decision`.

The check interface (every ``checks.questions.qNN_*`` module a question spec names follows it, in this
shape; ``checks/questions/q05_codebook.py`` is the model):

* a module docstring stating the procedure and the decision rule;
* a ``*Measured`` dataclass holding what was measured (it becomes the evidence's ``measured``);
* ``judge(measured, spec) -> dict[letter, OptionVerdict]`` is pure: it turns the measurements into a
  verdict per option, every number it compares with coming from ``spec.thresholds`` or an option's
  ``value``;
* ``gate(measured, spec)`` (where a model can make the question meaningless, e.g. untrained weights):
  why nothing can be decided, or ``None``;
* ``summary(measured[, spec]) -> str``: the one evidence line printed next to the answer;
* ``compute(ctx, spec) -> Evidence`` measures, with the models and assets of a
  :class:`checks.pipeline.context.CheckContext`;
* ``decide(evidence, spec) -> Decision`` is pure: it re-judges ``evidence.measured`` against ``spec``
  and names the correct option(s), or says why the question stays pending.

Nothing here imports torch or numpy.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from grader.safeyaml import dump_yaml

Verdict = Literal["true", "false", "undecided"]


@dataclass(frozen=True)
class OptionVerdict:
    """The verdict on one option (or, for multi-answer questions, one claim)."""

    verdict: Verdict
    """``true``: the measurement supports the option; ``false``: it refutes it; ``undecided``: neither."""
    why: str
    """One line naming the measured value and the threshold or option value it was compared with."""
    margin: float | None = None
    """Signed distance to the threshold in the threshold's unit; positive = on the safe side of it.
    ``None`` when the comparison is an exact equality of integers or labels (no threshold)."""
    lean: Verdict | None = None
    """For an undecided verdict: the side the numbers fall on (inside the band, or by the median of fragile
    seeds); what a TA's review starts from. ``None``: no side (measures that disagree, nothing measured)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"verdict": self.verdict, "why": self.why}
        if self.margin is not None:
            d["margin"] = _plain(self.margin)
        if self.lean is not None and self.verdict == "undecided":
            d["lean"] = self.lean
        return d


@dataclass
class Evidence:
    """Everything a check measured for one question, ready to be judged and written as YAML."""

    qid: str
    """Question id (``q01`` …)."""
    measured: Any
    """The check's measurement dataclass (plain numbers, lists, strings; small)."""
    verdicts: dict[str, OptionVerdict]
    """Per option letter, as :func:`judge` of the check module returned them for ``measured``."""
    summary: str
    """The evidence in one line (what the CLI prints)."""
    artifacts: str | None = None
    """Folder holding plots, audio or arrays written by the check; ``None`` when none were written."""
    notes: list[str] = field(default_factory=list)
    """Caveats worth reading next to the numbers."""

    def to_dict(self) -> dict[str, Any]:
        measured = dataclasses.asdict(self.measured) if dataclasses.is_dataclass(self.measured) else self.measured
        d: dict[str, Any] = {
            "summary": self.summary,
            "measured": _plain(measured),
            "verdicts": {k: v.to_dict() for k, v in sorted(self.verdicts.items())},
        }
        if self.notes:
            d["notes"] = list(self.notes)
        if self.artifacts:
            d["artifacts"] = self.artifacts
        return d

    def to_yaml(self) -> str:
        return evidence_yaml(self.qid, self.to_dict())


def evidence_yaml(qid: str, evidence: dict[str, Any]) -> str:
    """The ``<evidence-dir>/<qid>.yaml`` text of one question's evidence (fresh or read back from the cache)."""
    return dump_yaml({"question": qid, **evidence}, allow_unicode=True, sort_keys=False, width=100)


@dataclass(frozen=True)
class Decision:
    """The outcome for one question: correct option(s), or pending with the reason."""

    status: Literal["computed", "pending"]
    correct: tuple[str, ...]
    """Correct letters (empty when pending)."""
    reason: str | None
    """Why it is pending (``None`` when computed)."""
    margin: float | None
    """Smallest margin among the verdicts the decision rests on; ``None`` when they are all exact."""
    verdicts: Mapping[str, OptionVerdict]


def margin_text(margin: float | None) -> str:
    """A decision's margin as ``hw10 key`` prints it: three significant digits, or "exact" when ``None``."""
    return "exact (integer/label equality, no threshold)" if margin is None else f"{margin:.3g}"


def decide_single(verdicts: Mapping[str, OptionVerdict], letters: list[str], *,
                  none_reason: str = "") -> Decision:
    """Single-answer rule: exactly one option true and every other one false, else pending.

    ``none_reason`` is appended to the reason when no option is true (e.g. the measured values)."""
    missing = [x for x in letters if x not in verdicts]
    if missing:
        return Decision("pending", (), f"no verdict for option(s) {', '.join(missing)}", None, verdicts)
    true = [x for x in letters if verdicts[x].verdict == "true"]
    undecided = [x for x in letters if verdicts[x].verdict == "undecided"]
    if undecided:
        detail = "; ".join(f"{x}: {verdicts[x].why}" for x in undecided)
        return Decision("pending", (), f"undecided: {detail}", None, verdicts)
    if len(true) > 1:
        detail = "; ".join(f"{x}: {verdicts[x].why}" for x in true)
        return Decision("pending", (), f"several options fit the evidence, not choosing between them ({detail})",
                        None, verdicts)
    if not true:
        reason = "no option matches the evidence" + (f": {none_reason}" if none_reason else "")
        return Decision("pending", (), reason, None, verdicts)
    return Decision("computed", (true[0],), None, _min_margin(verdicts.values()), verdicts)


def _min_margin(verdicts) -> float | None:
    ms = [v.margin for v in verdicts if v.margin is not None]
    return min(ms) if ms else None


def _plain(x: Any) -> Any:
    """Plain YAML-safe Python values (tuples → lists, numpy scalars → Python, floats rounded to 8 digits)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return str(x)
        return float(f"{x:.8g}")
    if hasattr(x, "item"):  # numpy / torch scalar
        return _plain(x.item())
    return str(x)


class SpecError(ValueError):
    """A question spec lacks something its check needs (a threshold, an option value)."""


def threshold(spec, key: str) -> Any:
    """``spec.thresholds[key]``, or a :class:`SpecError` naming the spec file and the missing key."""
    try:
        return spec.thresholds[key]
    except KeyError:
        raise SpecError(f"questions/{spec.id}.yaml has no thresholds.{key} (the check needs it)") from None
