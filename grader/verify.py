"""Checking an official (hand-written) key against computed evidence: ``hw10 verify``.

Pure comparison of two keys for the same question bank: the official one and one computed by
``hw10 key`` (just now, or earlier and saved). A question *disagrees* when the computed answer
differs from the official one (regrade policies count: an official ``also_accept`` that contains the
computed answer agrees), or when the computed answer is pending but the option verdicts its evidence
did decide already contradict the official answer; it is *unverified* when the official side is
pending, or the computed side is pending and its decided verdicts are consistent with the official
answer (the detail then says which options they confirm and which are undecided); *fragile* evidence
is reported next to the verdict.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from .key import AnswerKey, KeyAnswer, Policy
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
    overrides: tuple[str, ...] = ()
    """The official key's TA overrides of this very evidence (each verdict against what the evidence decided, with
    its note, who and when): listed, not counted as disagreements — the TA decided them knowing the evidence."""


@dataclass(frozen=True)
class EvidenceVerdict:
    """One option's verdict as a computed key's ``evidence.verdicts`` records it."""

    letter: str
    verdict: Literal["true", "false", "undecided"]
    why: str
    margin: float | None = None

    def text(self) -> str:
        margin = f" (margin {self.margin})" if self.margin is not None else ""
        return f"{self.why}{margin}" if self.why else f"no reason given{margin}"

    @property
    def fragile(self) -> bool:
        return "FRAGILE" in self.why


@dataclass(frozen=True)
class PartialCheck:
    """The decided verdicts of a pending computed answer held against an official answer."""

    contradictions: tuple[str, ...]
    """One line per verdict that contradicts the official answer (letter, what each side says, why)."""
    confirmed: tuple[EvidenceVerdict, ...]
    """Decided verdicts that agree with the official answer (an accepted option true, any other false)."""
    tolerated: tuple[EvidenceVerdict, ...]
    """Single-answer: accepted options the evidence says are false while another accepted one is still open."""
    undecided: tuple[str, ...]
    """Options with no decided verdict (dropped options of a multi-answer question excluded)."""
    fragile: bool
    """A verdict the outcome rests on says FRAGILE."""


def _accepted(answer, kind: str) -> set[str]:
    policy = answer.policy or Policy()
    if kind == "single":
        return set(answer.correct) | set(policy.also_accept)
    return set(answer.correct) - set(policy.drop)


def option_verdicts(evidence: Any, letters: tuple[str, ...]) -> dict[str, EvidenceVerdict]:
    """The per-option verdicts of a computed answer's evidence (options without one are left out;
    anything other than a decided ``true``/``false`` counts as undecided)."""
    raw = evidence.get("verdicts") if isinstance(evidence, dict) else None
    if not isinstance(raw, dict):
        return {}
    out = {}
    for x in letters:
        v = raw.get(x)
        if not isinstance(v, dict):
            continue
        verdict = str(v.get("verdict")).lower()  # an unquoted YAML true/false reads as a bool
        margin = v.get("margin")
        if isinstance(margin, bool) or not isinstance(margin, (int, float)):
            margin = None
        out[x] = EvidenceVerdict(x, verdict if verdict in ("true", "false") else "undecided",
                                 str(v.get("why") or ""), margin)
    return out


def check_partial_evidence(kind: str, letters: tuple[str, ...], official: KeyAnswer,
                           verdicts: dict[str, EvidenceVerdict]) -> PartialCheck:
    """Hold decided option verdicts against an (unpending) official answer after its policy.

    Multi-answer: an accepted option (correct, not dropped) the evidence says is false, or an option
    left out (and not dropped) it says is true, contradicts the key; dropped options are ignored.
    Single-answer: an option outside the accepted ones (correct + ``also_accept``) that is true
    contradicts the key, and so do the accepted options when the evidence says every one of them is false
    (one accepted option false while another is open is tolerated, as a computed answer equal to that other
    option would agree)."""
    accepted = _accepted(official, kind)
    dropped = set((official.policy or Policy()).drop) if kind == "multi" else set()
    scored = [x for x in letters if x not in dropped]
    decided = {x: verdicts[x] for x in scored if x in verdicts and verdicts[x].verdict != "undecided"}
    undecided = tuple(x for x in scored if x not in decided)
    wrong_true = [v for x, v in decided.items() if x not in accepted and v.verdict == "true"]
    accepted_false = [v for x, v in decided.items() if x in accepted and v.verdict == "false"]
    if kind == "single" and len(accepted_false) < len(accepted):
        tolerated, accepted_false = accepted_false, []
    else:
        tolerated = []
    lines = [f"{v.letter} is in the official answer, the evidence says false: {v.text()}" for v in accepted_false]
    lines += [f"{v.letter} is not in the official answer, the evidence says true: {v.text()}" for v in wrong_true]
    contradicting = accepted_false + wrong_true
    set_apart = {v.letter for v in contradicting + tolerated}
    confirmed = tuple(v for x, v in decided.items() if x not in set_apart)
    rests_on = contradicting if contradicting else list(confirmed) + tolerated
    return PartialCheck(tuple(lines), confirmed, tuple(tolerated), undecided, any(v.fragile for v in rests_on))


def _partial_detail(check: PartialCheck, reason: str) -> str:
    if check.contradictions:
        return ("pending in the computed key, but its evidence contradicts the official key: "
                + "; ".join(check.contradictions))
    true = [v.letter for v in check.confirmed if v.verdict == "true"]
    false = [v.letter for v in check.confirmed if v.verdict == "false"]
    parts = []
    if true:
        parts.append(f"{', '.join(true)} true")
    if false:
        parts.append(f"{', '.join(false)} false")
    text = f"the evidence confirms {'; '.join(parts)}" if parts else "the evidence confirms no scored option"
    if check.tolerated:
        text += (f"; says {', '.join(v.letter for v in check.tolerated)} false, which the official key "
                 "accepts next to an option still open")
    if check.undecided:
        text += f"; undecided: {', '.join(check.undecided)}"
    return f"{text} (no computed answer: {reason})"


def compare_keys(bank: QuestionBank, official: AnswerKey, computed: AnswerKey) -> list[VerifyRow]:
    """One :class:`VerifyRow` per question of ``bank``: ``agree``/``disagree`` when both keys decide it (the official
    key's accepted and dropped options honoured), else ``unverified`` — or ``disagree`` when a pending computed
    answer's partial evidence contradicts the official key. The official key's TA overrides of this very evidence
    stand in for the evidence's verdicts they override (and are listed); a TA verdict the evidence decides otherwise
    than the TA saw it is a disagreement."""
    rows = []
    for spec in bank:
        o, c = official.answer(spec.id), computed.answer(spec.id)
        against, overrides, replaced = ta_contradictions(o, c, spec.letters)
        row = replace(_compare(spec, o, c, replaced), overrides=tuple(overrides))
        if against:
            row = replace(row, outcome="disagree",
                          detail=f"TA verdicts contradicting the evidence: {'; '.join(against)}; {row.detail}")
        rows.append(row)
    return rows


def ta_contradictions(official: KeyAnswer, computed: KeyAnswer,
                      letters: list[str]) -> tuple[list[str], list[str], dict[str, str]]:
    """The verdicts a TA gave in ``official`` (a reviewed key) that the computed evidence decided the other way:
    ``(contradictions, overrides, overridden)`` — an *override* is one the TA gave against this very verdict of the
    evidence (recorded beside it in the key), knowingly (``overridden``: letter → the TA's verdict); a
    *contradiction* is one the evidence now decides otherwise than the TA saw it (e.g. a claim that was open when
    the TA closed it)."""
    ev = computed.evidence if isinstance(computed.evidence, dict) else {}
    verdicts = option_verdicts(ev, letters)
    against, overrides, overridden = [], [], {}
    for r in official.review:
        v = verdicts.get(r.option)
        if r.decided_by == "ta" and v is not None and v.verdict != "undecided" and v.verdict != r.verdict:
            line = f"{r.option}: TA {r.verdict} ({r.who}, {r.when}: {r.note}), evidence {v.verdict} ({v.text()})"
            if r.evidence_verdict == v.verdict:
                overrides.append(line)
                overridden[r.option] = r.verdict
            else:
                against.append(line)
    return against, overrides, overridden


def _compare(spec, o: KeyAnswer, c: KeyAnswer, overridden: dict[str, str]) -> VerifyRow:
    """One question's comparison, the official key's knowing ``overridden`` verdicts (letter → verdict) standing in
    for the computed evidence's."""
    ev = c.evidence if isinstance(c.evidence, dict) else {}
    summary = str(ev.get("summary", ""))
    margin = ev.get("margin")
    numbers = summary + (f" (margin {margin})" if margin is not None else "")
    if overridden:
        numbers = f"the computed answer as the official key's TA overrides amend it; {numbers}"
    if not o.graded:
        return VerifyRow(spec.id, "unverified", (), tuple(c.correct), c.fragile,
                         f"the official key leaves it {o.status}")
    if o.policy is not None and o.policy.full_credit:
        return VerifyRow(spec.id, "unverified", tuple(o.correct), tuple(c.correct), c.fragile,
                         "full credit to everyone in the official key")
    if not c.graded:
        reason = c.reason or c.status
        verdicts = option_verdicts(ev, spec.letters)
        verdicts.update({x: EvidenceVerdict(x, v, "a TA's override in the official key")
                         for x, v in overridden.items()})
        if not any(v.verdict != "undecided" for v in verdicts.values()):
            return VerifyRow(spec.id, "unverified", tuple(o.correct), (), False, f"no computed answer: {reason}")
        check = check_partial_evidence(spec.kind, spec.letters, o, verdicts)
        return VerifyRow(spec.id, "disagree" if check.contradictions else "unverified", tuple(o.correct), (),
                         check.fragile, _partial_detail(check, reason))
    correct = (set(c.correct) - {x for x, v in overridden.items() if v == "false"}) | \
        {x for x, v in overridden.items() if v == "true"}
    if spec.kind == "single":
        agree = correct <= _accepted(o, "single")
    else:
        dropped = set((o.policy or Policy()).drop)
        agree = correct - dropped == _accepted(o, "multi")
    return VerifyRow(spec.id, "agree" if agree else "disagree", tuple(o.correct), tuple(c.correct), c.fragile,
                     numbers)
