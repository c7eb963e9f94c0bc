"""Checking an official (hand-written) key against computed evidence: ``hw10 verify``.

Pure comparison of two keys for the same question bank: the official one and one computed by
``hw10 key`` (just now, or earlier and saved). A question *disagrees* when the computed answer
differs from the official one (regrade policies count: an official ``also_accept`` that contains the
computed answer agrees); it is *unverified* when either side is pending; *fragile* evidence is
reported next to the verdict.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .key import AnswerKey, Policy
from .spec import QuestionBank

Outcome = Literal["agree", "disagree", "unverified"]


@dataclass(frozen=True)
class VerifyRow:
    qid: str
    outcome: Outcome
    official: tuple[str, ...]
    computed: tuple[str, ...]
    fragile: bool
    """The computed decision rests on evidence that seeds or bootstrap disagree about."""
    detail: str
    """The numbers: the evidence in one line, its margin, or why it could not be verified."""


def _accepted(answer, kind: str) -> set[str]:
    policy = answer.policy or Policy()
    if kind == "single":
        return set(answer.correct) | set(policy.also_accept)
    return set(answer.correct) - set(policy.drop)


def compare_keys(bank: QuestionBank, official: AnswerKey, computed: AnswerKey) -> list[VerifyRow]:
    rows = []
    for spec in bank:
        o, c = official.answer(spec.id), computed.answer(spec.id)
        ev = c.evidence if isinstance(c.evidence, dict) else {}
        summary = str(ev.get("summary", ""))
        margin = ev.get("margin")
        numbers = summary + (f" (margin {margin})" if margin is not None else "")
        if o.status == "pending":
            rows.append(VerifyRow(spec.id, "unverified", (), tuple(c.correct), c.fragile,
                                  "the official key leaves it pending"))
            continue
        if o.policy is not None and o.policy.full_credit:
            rows.append(VerifyRow(spec.id, "unverified", tuple(o.correct), tuple(c.correct), c.fragile,
                                  "full credit to everyone in the official key"))
            continue
        if c.status == "pending":
            rows.append(VerifyRow(spec.id, "unverified", tuple(o.correct), (), False,
                                  f"no computed answer: {c.reason or 'pending'}"))
            continue
        if spec.kind == "single":
            agree = set(c.correct) <= _accepted(o, "single")
        else:
            dropped = set((o.policy or Policy()).drop)
            agree = set(c.correct) - dropped == _accepted(o, "multi")
        rows.append(VerifyRow(spec.id, "agree" if agree else "disagree", tuple(o.correct), tuple(c.correct),
                              c.fragile, numbers))
    return rows
