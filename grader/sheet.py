"""Grading a roster against a key: attempt selection, per-question scores, totals, status."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Literal

from .errors import InputError
from .identity import check_people
from .key import AnswerKey
from .scoring import QuestionScore, score_question
from .spec import QuestionBank
from .submissions import Roster, Submission

AttemptPolicy = Literal["latest", "first", "highest"]


@dataclass(slots=True)
class StudentResult:
    """One row of scores.csv."""

    student_id: str
    name: str
    section: str
    sis_id: str
    scores: dict[str, QuestionScore]
    total: Fraction
    """Sum over graded questions (pending questions are not graded and not counted)."""
    status: Literal["ok", "check"]
    """``check``: some cell could not be read, or attempts had to be ordered by row; see notes."""
    notes: list[str] = field(default_factory=list)
    row: int | None = None
    attempt: int | None = None
    attempts_in_export: int = 1
    unread: dict[str, str] = field(default_factory=dict)
    """Question → what in its cell could not be read (the cell's problems, joined), for feedback."""


@dataclass
class ScoreSheet:
    bank: QuestionBank
    key: AnswerKey
    results: list[StudentResult]
    """In the order students first appear in the input."""

    # the key does not change under a sheet: these are computed once (feedback asks for them per student)
    @cached_property
    def pending(self) -> list[str]:
        return self.key.pending

    @cached_property
    def graded_ids(self) -> list[str]:
        return [q for q in self.bank.ids if q not in self.pending]

    @cached_property
    def max_total(self) -> Fraction:
        return sum((self.bank[q].points_exact for q in self.graded_ids), Fraction(0))


Memo = dict[tuple[str, tuple[str, ...]], tuple[QuestionScore, int | None]]
"""(question, the letters as read) → its score and the score in units of :func:`point_unit` (None: not graded)."""


def point_unit(bank: QuestionBank, key: AnswerKey) -> int:
    """A denominator every score of this bank and key is a whole multiple of: each question's points over the key's
    number of correct options (the rule's ``points / c``), all in one common unit. Totals are then sums of
    integers (the same exact values as adding the Fractions, without reducing each partial sum)."""
    unit = 1
    for spec in bank:
        a = key.answer(spec.id)
        dropped = set(a.policy.drop) if a.policy else set()
        c = len(set(a.correct) - dropped) if spec.kind == "multi" else 1
        unit = math.lcm(unit, spec.points_exact.denominator * max(c, 1))
    return unit


def grade_submission(bank: QuestionBank, key: AnswerKey, sub: Submission,
                     memo: Memo | None = None) -> dict[str, QuestionScore]:
    """Score every question of one submission with :func:`score_question`.

    ``memo`` (optional, per key) reuses the score of a selection already seen: a class has few
    distinct selections per question, and the rule is a pure function of (question, selection)."""
    return _scored(bank, key, sub, {} if memo is None else memo, point_unit(bank, key))[0]


def _scored(bank: QuestionBank, key: AnswerKey, sub: Submission, memo: Memo,
            unit: int) -> tuple[dict[str, QuestionScore], Fraction]:
    """The scores of one submission and their exact total (``unit``: :func:`point_unit`)."""
    out = {}
    units = 0
    exact = True
    for spec in bank:
        k = (spec.id, sub.answers.get(spec.id, ()))
        hit = memo.get(k)
        if hit is None:
            score = score_question(spec, key.answer(spec.id), tuple(sorted(set(k[1]))))
            scaled = None if score.points is None else score.points * unit
            hit = memo[k] = (score, None if scaled is None else
                             scaled.numerator if scaled.denominator == 1 else -1)
        out[spec.id] = hit[0]
        if hit[1] is not None:
            if hit[1] < 0:  # never for the course's rule; kept exact all the same
                exact = False
            units += hit[1]
    if not exact:
        return out, sum((s.points for s in out.values() if s.points is not None), Fraction(0))
    return out, Fraction(units, unit)


def _dedupe(group: list[Submission], path: str, fmt: str) -> tuple[list[Submission], list[str]]:
    """Merge identical rows of the same attempt; refuse conflicting rows of the same attempt.

    Rows without attempt numbers count as one attempt each in an NTU COOL export (it lists attempts newest
    first) but not in a plain CSV or a single student's file, which have no attempts: there, two different
    rows for one student are a conflict."""
    kept: list[Submission] = []
    notes: list[str] = []
    for sub in group:
        if sub.attempt is None and fmt == "ntucool":
            twin = next((k for k in kept if k.attempt is None and k.answers == sub.answers), None)
        else:
            twin = next((k for k in kept if k.attempt == sub.attempt), None)
        if twin is None:
            kept.append(sub)
        elif twin.answers == sub.answers:
            what = f"attempt {sub.attempt}" if sub.attempt is not None else "same answers"
            notes.append(f"row {sub.row} repeats row {twin.row} ({what}); counted once")
        elif sub.attempt is None:
            raise InputError(f"student {sub.student_id} has two different rows (rows {twin.row} and {sub.row}) and "
                             "this file has no attempts: remove the wrong one", file=path, row=sub.row, column="id")
        else:
            raise InputError(f"student {sub.student_id} has two different rows for attempt {sub.attempt} "
                             f"(rows {twin.row} and {sub.row}); remove the wrong one", file=path, row=sub.row,
                             column="attempt")
    return kept, notes


def _unread(sub: Submission) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for p in sub.problems:
        out.setdefault(p.qid, []).append(p.message)
    return {q: "; ".join(m) for q, m in out.items()}


def choose_attempt(group: list[Submission], policy: AttemptPolicy, bank: QuestionBank,
                   key: AnswerKey, memo: Memo | None = None, unit: int | None = None) -> Submission:
    """Pick the graded attempt. Rows come newest first in NTU COOL; attempt numbers win when present. (``memo`` and
    ``unit``: the class's, see :func:`_scored`; made here when not given.)"""
    numbered = all(s.attempt is not None for s in group)
    if policy == "highest":
        # Highest total; ties go to the latest attempt.
        latest_first = sorted(group, key=lambda s: -s.attempt) if numbered else sorted(group, key=lambda s: s.order)
        unit = point_unit(bank, key) if unit is None else unit
        memo = {} if memo is None else memo
        return max(latest_first, key=lambda s: _scored(bank, key, s, memo, unit)[1])  # max keeps first of ties
    if numbered:
        pick = max if policy == "latest" else min
        return pick(group, key=lambda s: s.attempt)
    return min(group, key=lambda s: s.order) if policy == "latest" else max(group, key=lambda s: s.order)


def grade_roster(roster: Roster, bank: QuestionBank, key: AnswerKey,
                 attempt_policy: AttemptPolicy = "latest") -> ScoreSheet:
    """The :class:`ScoreSheet` of a roster: rows grouped by student id, duplicates folded, one attempt graded per
    student (``attempt_policy``, see :func:`choose_attempt`), with notes on attempts, cell problems and pending
    questions; a student is marked ``check`` when a cell had a problem or attempts had no numbers."""
    check_people(roster.submissions, roster.path)
    groups: dict[str, list[Submission]] = {}
    for sub in roster.submissions:
        sub.order = len(groups.setdefault(sub.student_id, []))
        groups[sub.student_id].append(sub)
    pending = key.pending
    memo: Memo = {}
    unit = point_unit(bank, key)
    results: list[StudentResult] = []
    for sid, group in groups.items():
        if len(group) == 1:  # most students: nothing to fold or choose
            notes, chosen = [], group[0]
        else:
            group, notes = _dedupe(group, roster.path, roster.format)
            chosen = choose_attempt(group, attempt_policy, bank, key, memo, unit)
        scores, total = _scored(bank, key, chosen, memo, unit)
        notes = list(chosen.notes) + notes
        unnumbered = len(group) > 1 and any(s.attempt is None for s in group)
        if len(group) > 1:
            which = f"attempt {chosen.attempt}" if chosen.attempt is not None else "one of them"
            notes.append(f"{len(group)} attempts in the export; graded {which} (row {chosen.row}, "
                         f"--attempt {attempt_policy})")
        if unnumbered:
            notes.append("the export has no attempt numbers: attempts were ordered by row (NTU COOL lists the "
                         "newest first); check that the graded one is right")
        notes.extend(str(p) for p in chosen.problems)
        if pending:
            notes.append(f"not graded: {', '.join(pending)} (pending in the key)")
        results.append(StudentResult(
            student_id=sid, name=chosen.name, section=chosen.section, sis_id=chosen.sis_id, scores=scores,
            total=total, status="check" if chosen.problems or unnumbered else "ok", notes=notes,
            row=chosen.row, unread=_unread(chosen),
            attempt=chosen.attempt, attempts_in_export=len(group)))
    return ScoreSheet(bank, key, results)

