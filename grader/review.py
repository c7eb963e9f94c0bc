"""A TA's review of a key's questions: the decisions file and the reviewed key.

A question is in ``review`` when its evidence left claims undecided (a number inside its threshold's band,
fragile seeds, two measures that disagree, a single answer with no option or several fitting) while nothing said
the models were unfit. A TA may also *open* any computed (or already reviewed) question, because they heard that
the evidence decided an option wrongly. ``hw10 review`` hands the question to a TA, who listens and looks, and
records a verdict per option:

1. :func:`decisions_template` — the decisions file (YAML) for a key: every option of every question in review or
   opened (``open:``), with the evidence line to read, what the evidence decided (``evidence_verdict``),
   ``verdict:`` pre-filled (the evidence's verdict, or the side its numbers lean to for an open claim) and
   ``note:``; the key's sha256 (a decisions file applies to that key only);
2. :func:`apply_decisions` — the reviewed key: every option's verdict with who decided it (``decided_by:
   evidence`` where the TA kept the evidence's verdict, ``ta`` with the note, who and when where the TA decided an
   open claim or overrode a decided one, the evidence's verdict recorded beside it), and the answer that follows
   (multi-answer: the true options; single-answer: the one true option) with ``status: reviewed``. Overrides are
   what ``hw10 verify`` and the class report list (:attr:`grader.key.AnswerKey.overrides`).

Refused (an :class:`InputError`, exit 2, naming the file and entry; nothing written): a file for another key; a
question that is neither in review nor opened, or opened while pending, asserted, from test fixtures or not in the
key; an unknown option; an open claim left undecided; a verdict without a note where it goes against what the
evidence decided, against the side the numbers lean to, or where they lean no way; no reviewer; a single-answer
question that does not come out with exactly one true option, a multi-answer one with none.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any, Iterable

from grader.errors import InputError
from grader.key import AnswerKey, ClaimReview, KeyAnswer
from grader.readers.plain import question_id
from grader.spec import QuestionBank

from .safeyaml import dump_yaml

__all__ = ["DECISIONS_FORMAT", "apply_decisions", "check_openable", "decisions_template", "key_sha256"]

DECISIONS_FORMAT = "hw10-review/1"


def key_sha256(key_text: str) -> str:
    """The sha256 of a key file's text: what a decisions file names as the key it applies to."""
    return hashlib.sha256(key_text.encode("utf-8")).hexdigest()


def check_openable(key: AnswerKey, questions: Iterable[Any], where: str, file: str | None = None) -> list[str]:
    """The question ids of ``questions`` (as given: ``q10``, ``q6``, ``10``) a TA may open for review, in bank order:
    computed or reviewed ones (a question already in review needs no opening and is kept). An :class:`InputError`
    naming ``where`` for one that is not in the key, pending, asserted or computed from test fixtures."""
    out = []
    for raw in questions:
        qid = question_id(raw)
        a = key.answers.get(qid) if qid else None
        if a is None:
            raise InputError(f"{raw!r} is not a question of this key ({', '.join(sorted(key.answers))})", file=file,
                             column=where)
        if a.status == "pending":
            raise InputError(f"{qid} is pending in this key ({a.reason or 'not computed'}): there is no evidence to "
                             "review; compute it first (`hw10 key`)", file=file, column=where)
        if a.status == "asserted":
            raise InputError(f"{qid} is asserted (typed in by a TA) and has no evidence to review: change its "
                             "correct: in the key instead", file=file, column=where)
        if a.level == "fixture":
            raise InputError(f"{qid} was computed from an hw10 test checkpoint (level: fixture): not the homework's "
                             "answer, nothing to review; run `hw10 key` with the real models", file=file, column=where)
        if qid not in out:
            out.append(qid)
    return sorted(out)


def _evidence_verdicts(a: KeyAnswer) -> dict[str, dict[str, Any]]:
    ev = a.evidence if isinstance(a.evidence, dict) else {}
    verdicts = ev.get("verdicts")
    return {str(k): v for k, v in verdicts.items() if isinstance(v, dict)} if isinstance(verdicts, dict) else {}


def _decided(v: dict[str, Any] | None) -> str:
    """The evidence's verdict on one option: ``true``, ``false`` or ``undecided``."""
    verdict = str((v or {}).get("verdict", "")).lower()
    return verdict if verdict in ("true", "false") else "undecided"


def _baseline(a: KeyAnswer, letter: str) -> tuple[str, str | None, bool]:
    """``(evidence verdict, lean, open)`` of one option: what the evidence decided, the side its numbers lean to
    (its verdict when decided), and whether the TA must decide it (a claim the evidence left open)."""
    v = _evidence_verdicts(a).get(letter)
    claim = next((c for c in a.open_claims if c.option == letter), None)
    decided = _decided(v)
    if claim is not None:
        return decided, claim.lean, True
    if decided == "undecided":
        return decided, (v or {}).get("lean") if (v or {}).get("lean") in ("true", "false") else None, True
    return decided, decided, False


def decisions_template(bank: QuestionBank, key: AnswerKey, key_text: str, opened: Iterable[str] = ()) -> str:
    """The decisions file for ``key`` (whose file holds ``key_text``): every option of every question in review and
    of the ``opened`` ones, with its evidence line, the evidence's verdict and the verdict pre-filled; the TA fills
    ``reviewer``, every open verdict and the notes."""
    opened = check_openable(key, opened, "--open")
    questions: dict[str, Any] = {}
    for qid in sorted(set(key.in_review) | set(opened)):
        spec, a = bank[qid], key.answer(qid)
        verdicts = _evidence_verdicts(a)
        previous = {r.option: r for r in a.review if r.decided_by == "ta"}
        claims = {}
        for opt in spec.options:
            decided, lean, must = _baseline(a, opt.id)
            before = previous.get(opt.id)
            claims[opt.id] = {
                "option": opt.text_en,
                "evidence": str((verdicts.get(opt.id) or {}).get("why", "")),
                "evidence_verdict": decided,
                "evidence_leans": lean or "no way",
                "verdict": before.verdict if before else "" if must and lean is None else lean or decided,
                "note": before.note if before else ""}
        entry = {"question": spec.stem_en, "kind": spec.kind, "status": a.status,
                 "evidence_supports": list(a.proposed) if a.status == "review" else list(a.correct),
                 "to_decide": [c for c, x in claims.items() if _baseline(a, c)[2]],
                 "claims": claims}
        questions[qid] = entry
    data = {"format": DECISIONS_FORMAT, "key_sha256": key_sha256(key_text), "reviewer": "",
            "open": [q for q in opened if key.answer(q).status != "review"], "questions": questions}
    head = ("# hw10 review: every option of the questions in review (and of those opened with --open or\n"
            "# open:) is below, its verdict pre-filled: the evidence's own verdict where it decided the option, the\n"
            "# side its numbers lean to where it left the claim open (to_decide). Listen and look, then keep or\n"
            "# change each verdict (true or false) and put your name under reviewer. A verdict against the\n"
            "# evidence's (an override), against the lean, or where the numbers lean no way needs a note saying what\n"
            "# you heard or saw; overrides are listed by `hw10 verify` and in the class report. To open another\n"
            "# question, add its id under open: and its claims.\n"
            "# Then: hw10 review KEY --decisions THIS_FILE --out REVIEWED_KEY\n")
    return head + dump_yaml(data, allow_unicode=True, sort_keys=False, width=100)


def _verdict(value: Any, file: str, where: str) -> str:
    text = str(value).strip().lower() if value is not None else ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    if text not in ("true", "false"):
        raise InputError(f"verdict must be true or false, not {value!r}" if text else "undecided: fill in verdict "
                         "(true or false)", file=file, column=where)
    return text


def apply_decisions(bank: QuestionBank, key: AnswerKey, key_text: str, decisions: Any, file: str,
                    when: str, opened: Iterable[str] = ()) -> AnswerKey:
    """The reviewed key: ``key`` (whose file holds ``key_text``) with every question in review, and every question
    opened (the file's ``open:`` plus ``opened``), closed by the TA's ``decisions`` (the loaded YAML of ``file``),
    stamped ``when`` (ISO time). See the module docstring for what is refused."""
    if not isinstance(decisions, dict) or decisions.get("format") != DECISIONS_FORMAT:
        raise InputError(f"not an hw10 decisions file (format must be {DECISIONS_FORMAT})", file=file,
                         column="format")
    if decisions.get("key_sha256") != key_sha256(key_text):
        raise InputError("this decisions file was written for another key (key_sha256 differs): run `hw10 review "
                         "KEY --evidence-dir DIR --out SHEET` for this key", file=file, column="key_sha256")
    who = str(decisions.get("reviewer") or "").strip()
    if not who:
        raise InputError("reviewer is empty: put your name (who decided) there", file=file, column="reviewer")
    listed = decisions.get("open") or []
    if not isinstance(listed, list):
        raise InputError("open must be a list of question ids (e.g. [q10])", file=file, column="open")
    opened_here = check_openable(key, listed, "open", file)
    to_close = sorted(set(key.in_review) | set(opened_here) | set(check_openable(key, opened, "--open")))
    questions = decisions.get("questions")
    if not isinstance(questions, dict):
        raise InputError("questions must be a mapping of question → claims", file=file, column="questions")
    unknown = sorted(map(str, set(questions) - set(to_close)))
    if unknown:
        q = unknown[0]
        hint = (f"to override a verdict of {q}, open it: add {q} under open: (or run `hw10 review KEY --open {q}`)"
                if q in key.answers and key.answer(q).graded else f"in review: {', '.join(key.in_review) or 'none'}")
        raise InputError(f"{q} is not in review in this key and not opened ({hint})", file=file, column="questions")
    answers = dict(key.answers)
    for qid in to_close:
        answers[qid] = _reviewed(bank, qid, key.answer(qid), questions.get(qid), file, who, when)
    provenance = dict(key.provenance)
    provenance["reviews"] = list(provenance.get("reviews") or []) + [
        {"who": who, "when": when, "questions": to_close,
         "overrides": [f"{q} {r.option}" for q in to_close for r in answers[q].overrides],
         "decisions_sha256": hashlib.sha256(dump_yaml(decisions, sort_keys=True).encode()).hexdigest()}]
    return replace(key, answers=answers, provenance=provenance)


def _reviewed(bank: QuestionBank, qid: str, a: KeyAnswer, entry: Any, file: str, who: str, when: str) -> KeyAnswer:
    """One question closed: per option the evidence's verdict, kept or overridden by the TA, and the open claims
    decided by the TA."""
    spec = bank[qid]
    claims = entry.get("claims") if isinstance(entry, dict) else None
    if not isinstance(claims, dict):
        raise InputError(f"{qid} is {'in review' if a.status == 'review' else 'opened'} but has no claims decided",
                         file=file, column=f"questions.{qid}.claims")
    extra = sorted(set(map(str, claims)) - set(spec.letters))
    if extra:
        raise InputError(f"{qid} has no option {', '.join(extra)} (options: {''.join(spec.letters)})", file=file,
                         column=f"questions.{qid}.claims")
    review: list[ClaimReview] = []
    for letter in spec.letters:
        where = f"questions.{qid}.claims.{letter}"
        decided, lean, must = _baseline(a, letter)
        given = claims.get(letter)
        if given is not None and not isinstance(given, dict):
            raise InputError("must be a mapping with verdict and note", file=file, column=where)
        raw = (given or {}).get("verdict")
        if raw is None or str(raw).strip() == "":
            if must:
                raise InputError("undecided: fill in verdict (true or false) and note", file=file,
                                 column=f"{where}.verdict")
            review.append(ClaimReview(option=letter, verdict=decided, decided_by="evidence"))
            continue
        verdict = _verdict(raw, file, f"{where}.verdict")
        note = str((given or {}).get("note") or "").strip()
        if not must and verdict == decided:  # the TA keeps what the evidence decided
            review.append(ClaimReview(option=letter, verdict=verdict, decided_by="evidence"))
            continue
        if not note and verdict != lean:
            against = (f"overrides the evidence's verdict ({decided})" if not must else
                       f"goes against the evidence's lean ({lean})" if lean else "has no lean of the evidence")
            raise InputError(f"a verdict that {against} needs a note: what you heard or saw that decided it",
                             file=file, column=f"{where}.note")
        note = note or f"agrees with the evidence's lean ({lean})"
        review.append(ClaimReview(option=letter, verdict=verdict, decided_by="ta", note=note, who=who, when=when,
                                  evidence_verdict=decided))
    true = [r.option for r in review if r.verdict == "true"]
    if not true:
        raise InputError(f"{qid}: no option comes out true, so the question has no answer to grade by", file=file,
                         column=f"questions.{qid}")
    if spec.kind == "single" and len(true) != 1:
        raise InputError(f"{qid} is single-answer but {', '.join(true)} come out true: exactly one may", file=file,
                         column=f"questions.{qid}")
    by_ta = [r for r in review if r.decided_by == "ta"]
    overridden = [r for r in by_ta if r.override]
    text = ", ".join(f"{r.option} {r.verdict}" + (f" (overriding the evidence's {r.evidence_verdict})" if r.override
                                                   else "") for r in by_ta) or "every evidence verdict kept"
    return replace(a, status="reviewed", correct=true, review=review, open_claims=[], proposed=[],
                   reason=f"reviewed by {who} ({when}): {text}" + (f"; {len(overridden)} override(s)"
                                                                   if overridden else ""))
