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


@dataclass
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


def grade_submission(bank: QuestionBank, key: AnswerKey, sub: Submission,
                     memo: dict[tuple[str, tuple[str, ...]], QuestionScore] | None = None) -> dict[str, QuestionScore]:
    """Score every question of one submission with :func:`score_question`.

    ``memo`` (optional, per key) reuses the score of a selection already seen: a class has few
    distinct selections per question, and the rule is a pure function of (question, selection)."""
    out = {}
    for spec in bank:
        selected = tuple(sorted(set(sub.answers.get(spec.id, ()))))
        if memo is None:
            out[spec.id] = score_question(spec, key.answer(spec.id), selected)
            continue
        k = (spec.id, selected)
        if k not in memo:
            memo[k] = score_question(spec, key.answer(spec.id), selected)
        out[spec.id] = memo[k]
    return out


def _total(scores: dict[str, QuestionScore]) -> Fraction:
    """The exact sum of the graded points: integers over one common denominator, then one Fraction (adding
    Fractions one by one reduces each partial sum; this is the same value, ten times faster)."""
    points = [s.points for s in scores.values() if s.points is not None]
    if not points:
        return Fraction(0)
    common = math.lcm(*(p.denominator for p in points))
    return Fraction(sum(p.numerator * (common // p.denominator) for p in points), common)


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
                   key: AnswerKey, memo: dict | None = None) -> Submission:
    """Pick the graded attempt. Rows come newest first in NTU COOL; attempt numbers win when present."""
    numbered = all(s.attempt is not None for s in group)
    if policy == "highest":
        # Highest total; ties go to the latest attempt.
        latest_first = sorted(group, key=lambda s: -s.attempt) if numbered else sorted(group, key=lambda s: s.order)
        return max(latest_first, key=lambda s: _total(grade_submission(bank, key, s, memo)))  # max keeps first of ties
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
    memo: dict[tuple[str, tuple[str, ...]], QuestionScore] = {}
    results: list[StudentResult] = []
    for sid, group in groups.items():
        group, notes = _dedupe(group, roster.path, roster.format)
        chosen = choose_attempt(group, attempt_policy, bank, key, memo)
        scores = grade_submission(bank, key, chosen, memo)
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
            total=_total(scores), status="check" if chosen.problems or unnumbered else "ok", notes=notes,
            row=chosen.row, unread=_unread(chosen),
            attempt=chosen.attempt, attempts_in_export=len(group)))
    return ScoreSheet(bank, key, results)

