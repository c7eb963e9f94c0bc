"""Answer keys (``format: hw10-key/1``): model, loading, validation against the bank, writing."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import InputError
from .records import Record, RecordError
from .safeyaml import dump_yaml
from .spec import QuestionBank, _fmt_loc, load_yaml_file

KEY_FORMAT = "hw10-key/1"


@dataclass(kw_only=True)
class Policy(Record):
    """A regrade policy a TA puts on one question of a key."""

    also_accept: list[str] = field(default_factory=list)
    """Single-answer: further options that also earn full points."""
    drop: list[str] = field(default_factory=list)
    """Multi-answer: options removed from scoring (neither counted as correct nor penalised)."""
    full_credit: bool = False
    """Everyone in the export gets the question's full points (blank answers included)."""
    note: str | None = None
    """Why the policy was applied (shown in reports)."""


@dataclass(kw_only=True)
class OpenClaim(Record):
    """An option the evidence left undecided (a question in ``review``): what a TA is asked to decide."""

    option: str
    why: str
    """The numbers and the threshold they missed (the check's verdict line)."""
    lean: Literal["true", "false"] | None = None
    """The side the numbers fall on, when they fall on one (inside the band, fragile by the median)."""


@dataclass(kw_only=True)
class ClaimReview(Record):
    """A verdict on one option of a ``reviewed`` question: from the evidence, or from a TA who closed or overrode it."""

    option: str
    verdict: Literal["true", "false"]
    decided_by: Literal["evidence", "ta"]
    note: str | None = None
    """The TA's reason (required when the TA decided)."""
    who: str | None = None
    when: str | None = None
    """ISO time of the TA's decision."""
    evidence_verdict: Literal["true", "false", "undecided"] | None = None
    """What the evidence said of this option, beside a TA's verdict (``undecided`` for a claim it left open; None in
    keys reviewed before it was recorded)."""

    @property
    def override(self) -> bool:
        """A TA's verdict against a verdict the evidence decided."""
        return self.decided_by == "ta" and self.evidence_verdict in ("true", "false") and \
            self.verdict != self.evidence_verdict


GRADED_STATUSES = ("computed", "asserted", "reviewed")
"""Answers a student is graded on; ``pending`` and ``review`` are not graded."""


@dataclass(kw_only=True)
class KeyAnswer(Record):
    correct: list[str] = field(default_factory=list)
    """Correct option letters (empty while pending or in review)."""
    status: Literal["computed", "asserted", "pending", "review", "reviewed"]
    """computed: decided by a check; asserted: typed in by a TA; pending: not decided (never guessed); review: the
    evidence left claims open for a TA to decide (``hw10 review``); reviewed: a TA closed them."""
    level: Literal["structural", "model", "fixture"] | None = None
    """For computed answers: evidence from the architecture alone (``structural``), from the trained models
    (``model``), or from an hw10 test checkpoint (``fixture``: not the homework's answer; `hw10 grade`
    withholds grades.csv for such a key)."""
    reason: str | None = None
    """Why the question is pending, or where an asserted answer comes from."""
    fragile: bool = False
    """Seeds or bootstrap disagreed on this decision."""
    policy: Policy | None = None
    evidence: Any = None
    """Free-form evidence summary written by the checks (numbers, verdicts, margins)."""
    proposed: list[str] = field(default_factory=list)
    """``review``: the options the evidence already supports (a starting point, not an answer)."""
    open_claims: list[OpenClaim] = field(default_factory=list)
    """``review``: the options a TA has to decide, with the numbers."""
    review: list[ClaimReview] = field(default_factory=list)
    """``reviewed``: every option's verdict and who decided it."""

    @property
    def graded(self) -> bool:
        """Whether students are graded on this answer (computed, asserted or reviewed)."""
        return self.status in GRADED_STATUSES

    @property
    def overrides(self) -> list[ClaimReview]:
        """The TA verdicts that go against what the evidence decided (each with its note, who and when)."""
        return [r for r in self.review if r.override]

    def why(self) -> str:
        """Why the key says what it says, in one line (what a student's feedback and the self-check show next to
        the answer): the evidence's summary for a computed answer; for a reviewed one "reviewed by a TA", the TA's
        verdicts with their notes, and the evidence; the reason of an asserted, pending or in-review answer."""
        summary = self.evidence.get("summary") if isinstance(self.evidence, dict) else None
        if self.status == "reviewed":
            by_ta = [r for r in self.review if r.decided_by == "ta"]
            text = ("reviewed by a TA" + (f" ({by_ta[0].who})" if by_ta and by_ta[0].who else "") + ": "
                    + ("; ".join(f"{r.option} {r.verdict} — {r.note}" for r in by_ta) if by_ta
                       else "every verdict of the evidence kept"))
            return text + (f". Evidence: {summary}" if summary else "")
        if self.status == "computed":
            return str(summary or "computed from the models")
        return str(self.reason or ("set by a TA" if self.status == "asserted" else self.status))


@dataclass(kw_only=True)
class AnswerKey(Record):
    format: Literal["hw10-key/1"]
    questions_sha256: str = field(metadata={"pattern": r"[0-9a-f]{64}"})
    provenance: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, KeyAnswer]

    def answer(self, qid: str) -> KeyAnswer:
        return self.answers[qid]

    @property
    def pending(self) -> list[str]:
        """Questions not graded: pending, or waiting for a TA's review."""
        return sorted(q for q, a in self.answers.items() if not a.graded)

    @property
    def in_review(self) -> list[str]:
        """Questions whose open claims wait for ``hw10 review``."""
        return sorted(q for q, a in self.answers.items() if a.status == "review")

    @property
    def reviewed(self) -> list[str]:
        """Questions a TA closed by review."""
        return sorted(q for q, a in self.answers.items() if a.status == "reviewed")

    @property
    def from_fixtures(self) -> list[str]:
        """Questions whose answer was computed from an hw10 test checkpoint (a TA's review of it included)."""
        return sorted(q for q, a in self.answers.items() if a.status in ("computed", "reviewed")
                      and a.level == "fixture")

    @property
    def overrides(self) -> dict[str, list[ClaimReview]]:
        """Per question, the TA verdicts that go against what the evidence decided (questions without any left out)."""
        return {q: a.overrides for q, a in sorted(self.answers.items()) if a.overrides}

    def override_texts(self) -> list[str]:
        """Every override in a few words, question by question (``q07 A false → true``): what ``hw10 review`` and
        ``hw10 grade`` print (the class report shows them with their notes)."""
        return [f"{q} {r.option} {r.evidence_verdict} → {r.verdict}" for q, rs in self.overrides.items() for r in rs]


def validate_against_bank(key: AnswerKey, bank: QuestionBank, file: str) -> None:
    """Raise InputError unless ``key`` fits ``bank`` exactly."""
    if key.questions_sha256 != bank.sha256():
        raise InputError(
            "this key was made for a different question bank (questions_sha256 "
            f"{key.questions_sha256[:12]}… != {bank.sha256()[:12]}… of {bank.source}); "
            "regenerate it with `hw10 key` or fix the specs it was made for",
            file=file, column="questions_sha256")
    missing = [q for q in bank.ids if q not in key.answers]
    if missing:
        raise InputError(f"no answer for {', '.join(missing)} (use status: pending to leave one undecided)",
                         file=file, column="answers")
    extra = [q for q in key.answers if q not in bank]
    if extra:
        raise InputError(f"answers for questions not in the bank: {', '.join(sorted(extra))}", file=file,
                         column="answers")
    for spec in bank:
        a = key.answers[spec.id]
        where = f"answers.{spec.id}"
        letters = set(spec.letters)
        policy = a.policy or Policy()
        for name, values in (("correct", a.correct), ("policy.also_accept", policy.also_accept),
                              ("policy.drop", policy.drop)):
            bad = [v for v in values if v not in letters]
            if bad:
                raise InputError(f"{spec.id} has no option {', '.join(bad)} (options: {''.join(spec.letters)})",
                                 file=file, column=f"{where}.{name}")
            if len(set(values)) != len(values):
                raise InputError("repeated option letter", file=file, column=f"{where}.{name}")
        for name, values in (("proposed", a.proposed), ("open_claims", [c.option for c in a.open_claims]),
                              ("review", [r.option for r in a.review])):
            bad = [v for v in values if v not in letters]
            if bad:
                raise InputError(f"{spec.id} has no option {', '.join(bad)} (options: {''.join(spec.letters)})",
                                 file=file, column=f"{where}.{name}")
        if a.status in ("pending", "review"):
            if a.correct:
                raise InputError(f"a question in {a.status} must not list correct options", file=file,
                                 column=f"{where}.correct")
            if not a.reason:
                raise InputError(f"a question in {a.status} needs a reason", file=file, column=f"{where}.reason")
            if a.status == "review" and not a.open_claims:
                raise InputError("a question in review needs its open_claims", file=file, column=f"{where}.open_claims")
            continue
        if a.status == "reviewed":
            if sorted(r.option for r in a.review) != sorted(spec.letters):
                raise InputError("a reviewed question needs one verdict per option under review", file=file,
                                 column=f"{where}.review")
            unsigned = [r.option for r in a.review if r.decided_by == "ta" and not (r.note and r.who and r.when)]
            if unsigned:
                raise InputError(f"TA verdicts need note, who and when: {', '.join(unsigned)}", file=file,
                                 column=f"{where}.review")
            true = sorted(r.option for r in a.review if r.verdict == "true")
            if sorted(a.correct) != true:
                raise InputError(f"correct ({', '.join(a.correct) or 'none'}) must be the options reviewed true "
                                 f"({', '.join(true) or 'none'})", file=file, column=f"{where}.correct")
        if policy.full_credit:
            continue
        if spec.kind == "single":
            if len(a.correct) != 1:
                raise InputError(f"single-answer question needs exactly one correct option, got {len(a.correct)} "
                                 "(to accept more, use policy.also_accept)", file=file, column=f"{where}.correct")
            if policy.drop:
                raise InputError("policy.drop is for multi-answer questions", file=file, column=f"{where}.policy.drop")
        else:
            if policy.also_accept:
                raise InputError("policy.also_accept is for single-answer questions; for a multi-answer "
                                 "question list the option in correct or drop it", file=file,
                                 column=f"{where}.policy.also_accept")
            scored = [c for c in a.correct if c not in policy.drop]
            if not scored:
                raise InputError("a multi-answer question needs at least one correct option that is not dropped",
                                 file=file, column=f"{where}.correct")


def parse_key(data: Any, file: str) -> AnswerKey:
    """An :class:`AnswerKey` from already-loaded YAML ``data``: it must be a mapping with ``format: hw10-key/1`` and
    pass the model's validation, else an :class:`InputError` naming ``file`` and the offending column."""
    if not isinstance(data, dict):
        raise InputError("an answer key must be a YAML mapping", file=file)
    if data.get("format") != KEY_FORMAT:
        raise InputError(f"not an hw10 answer key (format: {data.get('format')!r}, expected {KEY_FORMAT!r})",
                         file=file, column="format")
    try:
        return AnswerKey.parse(data)
    except RecordError as exc:
        raise InputError(exc.message, file=file, column=_fmt_loc(exc.loc, data)) from None


def load_key(path: Path | str, bank: QuestionBank) -> AnswerKey:
    """Load a key with the safe YAML loader and validate it against ``bank``."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx"):
        raise InputError(f"--key takes an answer key YAML (format {KEY_FORMAT}), not a {path.suffix} file: the export "
                         "goes first, `hw10 grade EXPORT.csv --key KEY.yaml`", file=str(path))
    key = parse_key(load_yaml_file(path), str(path))
    validate_against_bank(key, bank, str(path))
    return key


def dump_key(key: AnswerKey) -> str:
    """Deterministic YAML text of a key (answers in question order, None fields left out)."""
    data = key.as_dict(exclude_none=True)
    for a in data["answers"].values():
        if not a.get("fragile"):
            a.pop("fragile", None)
        for empty in ("proposed", "open_claims", "review"):
            if not a.get(empty):
                a.pop(empty, None)
        pol = a.get("policy")
        if pol is not None:
            for k in ("also_accept", "drop"):
                if not pol.get(k):
                    pol.pop(k, None)
            if not pol.get("full_credit"):
                pol.pop("full_credit", None)
    data["answers"] = {q: data["answers"][q] for q in sorted(data["answers"])}
    return dump_yaml(data, allow_unicode=True, sort_keys=False, width=100)


def write_key(key: AnswerKey, path: Path | str) -> None:
    """Write ``key`` to ``path`` as UTF-8 YAML (:func:`dump_key`)."""
    Path(path).write_text(dump_key(key), encoding="utf-8")
