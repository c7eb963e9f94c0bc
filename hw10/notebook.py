"""Student self-check: score your own answers with the TA's scoring function, next to the evidence.

In a notebook (Colab/Jupyter)::

    from hw10 import selfcheck
    selfcheck({"q01": "B", "q06": ["A", "B"]}, key="key.yaml")          # against a published/computed key
    selfcheck({"q01": "B"}, questions="1-5", mimi="kyutai/mimi")        # compute the evidence here (needs torch)

The result renders as an HTML table in Jupyter and as text in a terminal. The points are computed
by :func:`grader.sheet.grade_submission` — the very function ``hw10 grade`` uses — so a self-check
score equals the TA's score for the same answers and key, to the last digit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

from grader.errors import InputError
from grader.key import AnswerKey, load_key
from grader.readers.plain import option_tokens, parse_letters, question_id
from grader.scoring import fmt_points
from grader.sheet import grade_submission
from grader.spec import QuestionBank, load_bank
from grader.submissions import CellProblem, Submission
from reports.render import environment


@dataclass(frozen=True)
class SelfCheckRow:
    qid: str
    title: str
    yours: tuple[str, ...]
    """Your selected letters (empty = blank)."""
    correct: tuple[str, ...]
    """What the key says (empty when pending)."""
    status: str
    """The key's status: computed, asserted or pending."""
    agrees: bool | None
    """Your answer gets full points (None when the question is pending)."""
    points: Fraction | None
    max_points: Fraction
    evidence: str
    """What the evidence says, in one line (or why it is pending)."""
    problem: str | None = None
    """Your answer for this question could not be read (e.g. a letter the question does not have)."""


@dataclass
class SelfCheckResult:
    rows: list[SelfCheckRow]
    total: Fraction
    max_total: Fraction
    key_description: str
    decimals: int = 4
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{'question':9} {'yours':8} {'key':8} {'points':>11}  evidence"]
        for r in self.rows:
            pts = ("not graded" if r.points is None
                   else f"{fmt_points(r.points, self.decimals)}/{fmt_points(r.max_points)}")
            mark = "" if r.agrees is None else ("✓" if r.agrees else "✗")
            lines.append(f"{r.qid:9} {','.join(r.yours) or '-':8} {','.join(r.correct) or '-':8} {pts:>11} {mark} "
                         f"{r.evidence}" + (f"  [{r.problem}]" if r.problem else ""))
        lines.append(f"total {fmt_points(self.total, self.decimals)} / {fmt_points(self.max_total)} "
                     f"(key: {self.key_description})")
        return "\n".join(lines + self.notes)

    def _repr_html_(self) -> str:
        return environment().get_template("selfcheck.html.j2").render(r=self, fmt=fmt_points)


def answers_from(data: Any, bank: QuestionBank) -> Submission:
    """A Submission from a mapping ``{q01: "B", "q06": ["A", "C"], 7: "C", "q1": "b"}`` (letters as in plain CSVs)."""
    if not isinstance(data, Mapping):
        raise InputError("answers must be a mapping of question to letters, e.g. {'q01': 'B', 'q06': ['A', 'C']}")
    sub = Submission("self")
    unknown = []
    given: dict[str, tuple[Any, list[str]]] = {}  # qid -> (the key as written, its tokens)
    for k, v in data.items():
        qid = question_id(k)
        if qid is None or qid not in bank:
            unknown.append(str(k))
            continue
        tokens = sorted(set(option_tokens(v)))
        if qid in given:
            if given[qid][1] != tokens:
                raise InputError(f"{qid} is given twice ({given[qid][0]!r} and {k!r}) with different answers")
            continue
        given[qid] = (k, tokens)
        letters, problem = parse_letters(v, bank[qid])
        if letters:
            sub.answers[qid] = letters
        if problem:
            sub.problems.append(CellProblem(qid, None, qid, problem))
    if unknown:
        raise InputError(f"unknown question(s): {', '.join(unknown)} (use {bank.ids[0]} … {bank.ids[-1]})")
    return sub


def score_against_key(bank: QuestionBank, key: AnswerKey, sub: Submission, decimals: int = 4,
                      key_description: str = "") -> SelfCheckResult:
    """The self-check table for one student's answers: per question their letters, the key's, the points and the key's
    evidence (or pending reason); the total over the graded questions, with notes on pending and fixture answers."""
    scores = grade_submission(bank, key, sub)
    problems = {p.qid: p.message for p in sub.problems}
    rows = []
    for spec in bank:
        s = scores[spec.id]
        a = key.answer(spec.id)
        evidence = a.why()
        rows.append(SelfCheckRow(spec.id, spec.title, s.selected, tuple(a.correct), a.status,
                                 None if not s.graded else s.points == s.max_points, s.points, s.max_points,
                                 evidence, problems.get(spec.id)))
    total = sum((r.points for r in rows if r.points is not None), Fraction(0))
    graded_max = sum((r.max_points for r in rows if r.points is not None), Fraction(0))
    notes = []
    pending = [r.qid for r in rows if r.points is None]
    if pending:
        notes.append(f"not graded (pending in the key): {', '.join(pending)}")
    blank = [r.qid for r in rows if not r.yours and not r.problem and r.points is not None]
    if blank:
        notes.append(f"not answered: {', '.join(blank)} (a blank answer scores 0; answer them before you submit)")
    if key.from_fixtures:
        notes.append(f"{', '.join(key.from_fixtures)}: computed from hw10 test fixtures, not the real models — "
                     "these points say nothing about the homework's answers")
    desc = key_description or str(key.provenance.get("description") or key.provenance.get("kind") or "")
    return SelfCheckResult(rows, total, graded_max, desc, decimals, notes)


_NOT_A_VALUE = {"out", "or", "and", "to", "must", "applies", "is", "with", "in", "for", "of"}


def notebook_wording(text: str, keywords: dict[str, str]) -> str:
    """A message of the checks as a notebook user reads it: ``pass --assets DIR`` → ``pass assets=DIR``,
    ``--mimi mimi`` → ``mimi='mimi'``, ``--questions '99': …`` → ``questions='99': …``, for the flags in
    ``keywords`` (flag without ``--`` → keyword argument). Other flags (``hf download … --local-dir``) are
    left alone."""
    flags = re.compile(r"(?<![\w-])--(" + "|".join(sorted(map(re.escape, keywords), key=len, reverse=True))
                       + r")(?![\w-])(?: ('[^']*'|\"[^\"]*\"|[^\s;,()`]+))?")

    def keyword(m: re.Match) -> str:
        name, value = keywords[m.group(1)], m.group(2)
        if name == "no_cache":  # a switch: never followed by a value
            return "no_cache=True" + (f" {value}" if value else "")
        if value is None:
            return name
        stripped = value.rstrip(".:")
        tail = value[len(stripped):]
        if not stripped or stripped.lower() in _NOT_A_VALUE:
            return f"{name} {value}"
        if stripped[0] in "'\"" or re.fullmatch(r"[A-Z]+|\d+(\.\d+)?", stripped):  # quoted, a placeholder, a number
            return f"{name}={stripped}{tail}"
        return f"{name}={stripped!r}{tail}"
    return flags.sub(keyword, text)


def selfcheck(answers: Any, key: str | Path | AnswerKey | None = None, *, questions: str | None = None,
              decimals: int = 4, bank: QuestionBank | None = None, **compute_options: Any) -> SelfCheckResult:
    """Score ``answers`` against ``key``; without a key, compute one here first (needs the model extras).

    ``compute_options`` are those of ``hw10 key`` (``assets``, ``mimi``, ``asr``, ``device``, …). Messages
    from that computation name these keyword arguments (``assets=DIR``), not the command's flags."""
    bank = bank or load_bank()
    sub = answers_from(answers, bank)
    if key is None:
        # deferred: the model pipeline is needed on this path only (a grader without the model extras never loads it)
        from checks.pipeline.options import KeyRunOptions, flag_keywords
        from checks.pipeline.run import compute_key
        from grader.options import flags

        keywords = flag_keywords()
        try:
            run = compute_key(KeyRunOptions(select=questions, **compute_options), bank)
        except InputError as exc:  # the option it is about as the keyword argument, any flag in its advice likewise
            names = {field: flag.keyword or field for field, flag in flags(KeyRunOptions)}
            raise replace(exc, message=notebook_wording(exc.phrased(names.get(exc.option or ""), keyword=True)
                                                        if exc.option else exc.message, keywords),
                          option=None, value=None, file=None if exc.option else exc.file) from None
        desc = "computed here: " + str(run.key.provenance.get("description", ""))
        result = score_against_key(bank, run.key, sub, decimals, desc)
        result.rows = [replace(r, evidence=notebook_wording(r.evidence, keywords)) for r in result.rows]
        result.notes = [notebook_wording(n, keywords) for n in result.notes]
        return result
    if isinstance(key, AnswerKey):
        key_obj, desc = key, str(key.provenance.get("description") or "")
    else:
        key_obj, desc = load_key(key, bank), str(key)
    return score_against_key(bank, key_obj, sub, decimals, desc)
