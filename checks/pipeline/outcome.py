"""What a key run found for one question (:class:`QuestionOutcome`), and the answer key built from all of them.

Pure: nothing here loads a model or prints.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from checks.evidence import Evidence
from grader.key import AnswerKey, KeyAnswer, OpenClaim

Blocker = Literal["selection", "not-implemented", "asset", "model", "weights", "input", "error"]


@dataclass
class QuestionOutcome:
    """What ``hw10 key`` found for one question."""

    qid: str
    status: Literal["computed", "pending", "review"]
    """``review``: the evidence left claims open (undecided verdicts, no gate closed) for a TA to decide."""
    correct: tuple[str, ...] = ()
    level: Literal["structural", "model", "fixture"] | None = None
    """``structural``: decided with random-weight models only; ``model``: with trained weights;
    ``fixture``: with an hw10 test checkpoint (says nothing about the homework's answer)."""
    reason: str | None = None
    """Why pending."""
    evidence: Evidence | None = None
    margin: float | None = None
    """Smallest margin to a threshold among the verdicts the decision rests on (None: exact)."""
    blocked_by: Blocker | None = None
    """What kept a pending question from being computed."""
    model_error: str | None = None
    """Name of the model that failed to load (when ``blocked_by == 'model'``)."""
    proposed: tuple[str, ...] = ()
    """``review``: the options the evidence already supports."""
    open_options: tuple[str, ...] = ()
    """``review``: the options a TA is to decide."""


def pending(qid: str, reason: str, blocked_by: Blocker, **kw: Any) -> QuestionOutcome:
    """A pending :class:`QuestionOutcome` for ``qid``: why (``reason``) and what blocked it; ``kw`` sets the other
    fields (evidence, margin, model_error)."""
    return QuestionOutcome(qid, "pending", reason=reason, blocked_by=blocked_by, **kw)


def answer_level(random_models: bool, fixture_models: bool) -> Literal["structural", "model", "fixture"]:
    """The label a computed answer gets: ``fixture`` when any model it used is an hw10 test checkpoint (even
    a structural answer: the key must not pass for a real one), else ``structural`` with random weights,
    else ``model``."""
    if fixture_models:
        return "fixture"
    return "structural" if random_models else "model"


def is_fragile(evidence: dict[str, Any] | None) -> bool:
    """A decision is fragile when a verdict it rests on says so: seeds or the resampling interval fall
    on both sides of a threshold (checks write ``FRAGILE: …`` into that verdict's ``why``)."""
    if not evidence:
        return False
    return any("FRAGILE" in str(v.get("why", "")) for v in (evidence.get("verdicts") or {}).values())


def _evidence_for_key(o: QuestionOutcome) -> dict[str, Any] | None:
    if o.evidence is None:
        return None
    d = o.evidence.to_dict()
    d.pop("artifacts", None)
    if o.margin is not None:
        d["margin"] = float(f"{o.margin:.6g}")
    return d


def open_claims(evidence: dict[str, Any] | None, options: tuple[str, ...]) -> list[OpenClaim]:
    """``options`` of a question's evidence as claims for a TA to decide, with the numbers and their lean (an
    option the evidence found true or false leans that way: the TA picks among several true ones, or one of
    options all found false)."""
    verdicts = (evidence or {}).get("verdicts") or {}
    out = []
    for k in sorted(options):
        v = verdicts.get(k) if isinstance(verdicts.get(k), dict) else {}
        lean = v.get("verdict") if v.get("verdict") in ("true", "false") else v.get("lean")
        out.append(OpenClaim(option=k, why=str(v.get("why", "")), lean=lean))
    return out


def build_key(bank, outcomes: list[QuestionOutcome], provenance: dict[str, Any]) -> AnswerKey:
    """The :class:`AnswerKey` (``hw10-key/1``) from every question's outcome: correct letters, status, level (computed
    only), reason and evidence (without artifacts, with the margin and fragility), stamped with the bank's sha256; a
    question in review carries its open claims and the options the evidence already supports."""
    answers = {}
    for o in outcomes:
        evidence = _evidence_for_key(o)
        review = o.status == "review"
        answers[o.qid] = KeyAnswer(correct=list(o.correct), status=o.status,
                                   level=o.level if o.status == "computed" else None,
                                   reason=o.reason, evidence=evidence, fragile=is_fragile(evidence),
                                   proposed=list(o.proposed) if review else [],
                                   open_claims=open_claims(evidence, o.open_options) if review else [])
    return AnswerKey(format="hw10-key/1", questions_sha256=bank.sha256(), provenance=provenance, answers=answers)
