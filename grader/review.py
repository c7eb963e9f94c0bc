"""A TA's review of the claims a computed key left open: the decisions file and the reviewed key.

A question is in ``review`` when its evidence left claims undecided (a number inside its threshold's band,
fragile seeds, two measures that disagree) while nothing said the models were unfit. ``hw10 review`` hands
those claims to a TA, who listens and looks, and records a verdict per claim:

1. :func:`decisions_template` — the decisions file (YAML) for a key: one entry per open claim, with the
   evidence line to read, ``verdict:`` and ``note:`` to fill, and the key's sha256 (a decisions file
   applies to that key only);
2. :func:`apply_decisions` — the reviewed key: every open claim decided by the TA (``true``/``false``;
   a verdict is pre-filled where the numbers lean one way, and one against that lean needs a note), the
   evidence's own verdicts kept, and the answer that follows (multi-answer: the true claims; single-answer:
   the one true option) with ``status: reviewed`` and, per option, who decided it
   (``decided_by: evidence|ta``), the note, who and when.

Refused (an :class:`InputError`, exit 2, naming the file and entry; nothing written): a file for another
key, a question or option that is not open, an open claim left undecided, a verdict without a note where it
goes against the side the numbers lean to (or they lean no way), no reviewer, a single-answer question that
does not come out with exactly one true option.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from grader.errors import InputError
from grader.key import AnswerKey, ClaimReview, KeyAnswer
from grader.spec import QuestionBank

from .safeyaml import dump_yaml

__all__ = ["DECISIONS_FORMAT", "apply_decisions", "decisions_template", "key_sha256"]

DECISIONS_FORMAT = "hw10-review/1"


def key_sha256(key_text: str) -> str:
    """The sha256 of a key file's text: what a decisions file names as the key it applies to."""
    return hashlib.sha256(key_text.encode("utf-8")).hexdigest()


def decisions_template(bank: QuestionBank, key: AnswerKey, key_text: str) -> str:
    """The decisions file for ``key`` (whose file holds ``key_text``): every open claim with its evidence line and
    an empty ``verdict``/``note``; the TA fills ``reviewer`` and every verdict and note."""
    questions: dict[str, Any] = {}
    for qid in key.in_review:
        spec, a = bank[qid], key.answer(qid)
        claims = {}
        for c in a.open_claims:
            opt = next(o for o in spec.options if o.id == c.option)
            claims[c.option] = {"option": opt.text_en, "evidence": c.why, "evidence_leans": c.lean or "no way",
                                "verdict": c.lean or "", "note": ""}
        questions[qid] = {"question": spec.stem_en, "kind": spec.kind, "evidence_supports": list(a.proposed),
                          "claims": claims}
    data = {"format": DECISIONS_FORMAT, "key_sha256": key_sha256(key_text), "reviewer": "", "questions": questions}
    head = ("# hw10 review: decide every open claim (verdict: true or false) after listening; put your name under\n"
            "# reviewer. A verdict is pre-filled where the numbers lean one way (evidence_leans); a verdict against\n"
            "# that lean, or where they lean no way, needs a note saying what you heard or saw.\n"
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
                    when: str) -> AnswerKey:
    """The reviewed key: ``key`` (whose file holds ``key_text``) with every question in review closed by the TA's
    ``decisions`` (the loaded YAML of ``file``), stamped ``when`` (ISO time). See the module docstring for what is
    refused."""
    if not isinstance(decisions, dict) or decisions.get("format") != DECISIONS_FORMAT:
        raise InputError(f"not an hw10 decisions file (format must be {DECISIONS_FORMAT})", file=file,
                         column="format")
    if decisions.get("key_sha256") != key_sha256(key_text):
        raise InputError("this decisions file was written for another key (key_sha256 differs): run `hw10 review "
                         "KEY --evidence-dir DIR --out SHEET` for this key", file=file, column="key_sha256")
    who = str(decisions.get("reviewer") or "").strip()
    if not who:
        raise InputError("reviewer is empty: put your name (who decided) there", file=file, column="reviewer")
    questions = decisions.get("questions")
    if not isinstance(questions, dict):
        raise InputError("questions must be a mapping of question → claims", file=file, column="questions")
    unknown = sorted(set(questions) - set(key.in_review))
    if unknown:
        raise InputError(f"{', '.join(map(str, unknown))} {'is' if len(unknown) == 1 else 'are'} not in review in "
                         f"this key (in review: {', '.join(key.in_review) or 'none'})", file=file, column="questions")
    answers = dict(key.answers)
    for qid in key.in_review:
        answers[qid] = _reviewed(bank, qid, key.answer(qid), questions.get(qid), file, who, when)
    provenance = dict(key.provenance)
    provenance["reviews"] = list(provenance.get("reviews") or []) + [
        {"who": who, "when": when, "questions": list(key.in_review),
         "decisions_sha256": hashlib.sha256(dump_yaml(decisions, sort_keys=True).encode()).hexdigest()}]
    return replace(key, answers=answers, provenance=provenance)


def _reviewed(bank: QuestionBank, qid: str, a: KeyAnswer, entry: Any, file: str, who: str, when: str) -> KeyAnswer:
    """One question closed: the evidence's decided verdicts plus the TA's on its open claims."""
    spec = bank[qid]
    claims = entry.get("claims") if isinstance(entry, dict) else None
    if not isinstance(claims, dict):
        raise InputError(f"{qid} is in review but has no claims decided", file=file, column=f"questions.{qid}.claims")
    open_ids = [c.option for c in a.open_claims]
    extra = sorted(set(map(str, claims)) - set(open_ids))
    if extra:
        raise InputError(f"{qid}: option {', '.join(extra)} is not an open claim (open: {', '.join(open_ids)})",
                         file=file, column=f"questions.{qid}.claims")
    evidence = (a.evidence.get("verdicts") or {}) if isinstance(a.evidence, dict) else {}
    review: list[ClaimReview] = []
    for letter in spec.letters:
        where = f"questions.{qid}.claims.{letter}"
        if letter in open_ids:
            decided = claims.get(letter)
            if not isinstance(decided, dict):
                raise InputError("undecided: fill in verdict (true or false) and note", file=file, column=where)
            verdict = _verdict(decided.get("verdict"), file, f"{where}.verdict")
            note = str(decided.get("note") or "").strip()
            lean = next(c.lean for c in a.open_claims if c.option == letter)
            if not note and verdict != lean:
                against = f"goes against the evidence's lean ({lean})" if lean else "has no lean of the evidence"
                raise InputError(f"a verdict that {against} needs a note: what you heard or saw that decided it",
                                 file=file, column=f"{where}.note")
            note = note or f"agrees with the evidence's lean ({lean})"
            review.append(ClaimReview(option=letter, verdict=verdict, decided_by="ta", note=note, who=who, when=when))
        else:
            v = evidence.get(letter) or {}
            if v.get("verdict") not in ("true", "false"):
                raise InputError(f"{qid} option {letter} has no decided verdict in the key's evidence and is not an "
                                 "open claim: the key is inconsistent, compute it again", file=file, column=where)
            review.append(ClaimReview(option=letter, verdict=v["verdict"], decided_by="evidence"))
    true = [r.option for r in review if r.verdict == "true"]
    if not true:
        raise InputError(f"{qid}: no option comes out true, so the question has no answer to grade by", file=file,
                         column=f"questions.{qid}")
    if spec.kind == "single" and len(true) != 1:
        raise InputError(f"{qid} is single-answer but {', '.join(true)} come out true: exactly one may", file=file,
                         column=f"questions.{qid}")
    by_ta = ", ".join(f"{r.option} {r.verdict}" for r in review if r.decided_by == "ta")
    return replace(a, status="reviewed", correct=true, review=review, open_claims=[], proposed=[],
                   reason=f"reviewed by {who} ({when}): {by_ta}")
