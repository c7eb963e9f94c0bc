"""The schema of the question specs and answer keys (grader/records.py): what a TA who edits a spec or a key by hand
is told, and what the checks and the key writer rely on (extras of a claim, plain data in declared order)."""
from __future__ import annotations

import copy
import datetime
import pickle
import shutil
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, make_key

from grader.errors import InputError
from grader.key import AnswerKey, ClaimReview, KeyAnswer, OpenClaim, Policy, dump_key, load_key, parse_key, write_key
from grader.records import RecordError
from grader.spec import Claim, QuestionSpec, load_bank


def _spec_with(tmp_path: Path, qid: str, edit) -> Path:
    folder = tmp_path / "questions"
    shutil.copytree(ROOT / "questions", folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = folder / f"{qid}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.mark.parametrize("edit, column, message", [
    (lambda d: d.update(title=12), "title", "must be text, got a number"),
    (lambda d: d.update(title=""), "title", "must not be empty"),
    (lambda d: d.update(kind="essay"), "kind", "must be one of 'single', 'multi', got 'essay'"),
    (lambda d: d.update(kind=None), "kind", "must be one of 'single', 'multi', got nothing (null)"),
    (lambda d: d.update(id="q7"), "id", r"must match q\d\d, got 'q7'"),
    (lambda d: d.update(id="q07\n"), "id", "must match"),  # a pattern matches the whole text, not up to a newline
    (lambda d: d.pop("stem_en"), "stem_en", "missing (required)"),
    (lambda d: d.update(colour="red"), "colour", "unknown field (allowed: id, title, kind, points"),
    (lambda d: d.update(points="0"), "points", "points must be positive"),
    (lambda d: d.update(points=True), "points", "points must be a number such as 0.8"),
    (lambda d: d.update(points="1e999999999"), "points", "is not a decimal number such as 0.8"),  # not 10**1e9
    (lambda d: d.update(options=d["options"][:1]), "options", "needs at least 2 entries, got 1"),
    (lambda d: d.update(options="A, B"), "options", "must be a list, got text"),
    (lambda d: d["options"][2].update(id="Z"), "options[2] (option Z).id", "must match [A-J]"),
    (lambda d: d["options"][1].update(text_en=["x"]), "options[1] (option B).text_en", "must be text, got a list"),
    (lambda d: d["options"].reverse(), "options", "option ids must be A, B, C, D in order, got D, C, B, A"),
    (lambda d: d.update(check="checks.questions.q07_quality"), "check", "must be a mapping, got text"),
    (lambda d: d["check"].update(level="gpu"), "check.level", "must be one of 'structural', 'model'"),
    (lambda d: d["check"].update(assets=[1]), "check.assets[0]", "must be text, got a number"),
    (lambda d: d["check"].update(module="os.system"), "check.module", "must match"),
    (lambda d: d.update(thresholds={1: 2}), "thresholds", "names must be text, got a number (1)"),
    (lambda d: d["threshold_sources"].update(nothing="slides"), "threshold_sources", "names no threshold: nothing"),
])
def test_a_broken_spec_names_its_field_and_says_what_is_wrong(tmp_path, edit, column, message):
    with pytest.raises(InputError) as exc:
        load_bank(_spec_with(tmp_path, "q07", edit))
    assert exc.value.file.endswith("q07.yaml") and exc.value.column == column
    assert message in str(exc.value)


@pytest.mark.parametrize("edit, column, message", [
    (lambda d: d["options"][0]["claim"].update(decided_by="vibes"), "options[0] (option A).claim.decided_by",
     "must be one of 'fact', 'measurement', got 'vibes'"),
    (lambda d: d["options"][0]["claim"].update(decided_by="fact", source=None), "options[0] (option A).claim.source",
     "a claim decided_by 'fact' needs a 'source'"),
    (lambda d: d["options"][3].pop("claim"), "options", "options D need a 'claim'"),
    (lambda d: d["options"][0]["claim"].update({7: "x"}), "options[0] (option A).claim.7", "a name must be text"),
    (lambda d: d["options"][0]["claim"].update(extra="x"), "options[0] (option A).claim.extra", "keeps for itself"),
    (lambda d: d["options"][0]["claim"].update(__deepcopy__=1), "options[0] (option A).claim.__deepcopy__",
     "keeps for itself"),
])
def test_a_broken_claim_is_named_down_to_its_option(tmp_path, edit, column, message):
    with pytest.raises(InputError) as exc:
        load_bank(_spec_with(tmp_path, "q10", edit))
    assert exc.value.column == column and message in str(exc.value)


def test_every_spec_reads_back_from_its_plain_data(bank):
    for spec in bank:
        again = QuestionSpec.parse(spec.as_dict())
        assert again == spec and again.as_dict() == spec.as_dict()


def test_a_claims_own_parameters_are_kept_after_its_fields_and_read_as_attributes(bank):
    claim = bank["q06"].option("C").claim
    assert claim.complement == "D" and claim.extra["complement"] == "D"
    assert list(claim.as_dict())[:3] == ["decided_by", "rule", "source"] and "complement" in claim.as_dict()
    with pytest.raises(AttributeError):
        claim.no_such_parameter  # noqa: B018
    assert getattr(claim, "no_such_parameter", None) is None
    assert pickle.loads(pickle.dumps(claim)) == claim and copy.deepcopy(claim) == claim


def test_records_built_in_code_are_checked_too_and_hold_their_own_lists():
    """The checks build keys in code: a typo in a status or a wrong type fails there, not in a TA's file later."""
    with pytest.raises(RecordError, match="status: must be one of 'computed'"):
        KeyAnswer(status="computd")
    with pytest.raises(RecordError, match="correct: must be a list, got text"):
        KeyAnswer(status="asserted", correct="B")
    with pytest.raises(RecordError, match=r"open_claims\[0\]: must be a OpenClaim, got a mapping"):
        KeyAnswer(status="review", open_claims=[{"option": "A", "why": "x"}])
    with pytest.raises(RecordError, match="source: a claim decided_by 'fact' needs a 'source'"):
        Claim(decided_by="fact", rule="it is so")
    with pytest.raises(RecordError, match="lean: must be one of 'true', 'false'"):
        OpenClaim(option="A", why="x", lean="maybe")
    with pytest.raises(RecordError, match="verdict"):
        replace(ClaimReview(option="A", verdict="true", decided_by="ta"), verdict="yes")
    with pytest.raises(RecordError, match="correct: must be a list, got a set"):
        KeyAnswer(status="asserted", correct={"B"})
    letters = ["B"]
    answer = KeyAnswer(status="asserted", correct=letters, evidence={"x": 1})
    letters.append("C")  # the caller's list changes; the key's does not
    assert answer.correct == ["B"] and KeyAnswer(status="asserted", correct=("B", "C")).correct == ["B", "C"]


@pytest.mark.parametrize("mutate, column, message", [
    (lambda d: d["answers"]["q03"].update(fragile="yes"), "answers.q03.fragile", "must be true or false, got text"),
    (lambda d: d["answers"]["q03"].update(correct="B"), "answers.q03.correct", "must be a list, got text"),
    (lambda d: d["answers"]["q03"].update(policy={"full_credit": 1}), "answers.q03.policy.full_credit",
     "must be true or false, got a number"),
    (lambda d: d["answers"]["q03"].update(policy={"accept": ["A"]}), "answers.q03.policy.accept",
     "unknown field (allowed: also_accept, drop, full_credit, note)"),
    (lambda d: d["answers"]["q03"].update(open_claims=[{"option": "A"}]), "answers.q03.open_claims[0].why",
     "missing (required)"),
    (lambda d: d["answers"].update(q03=None), "answers.q03", "must be a mapping, got nothing (null)"),
    (lambda d: d.update(questions_sha256="ABC"), "questions_sha256", "must match [0-9a-f]{64}"),
    (lambda d: d.update(provenance=[]), "provenance", "must be a mapping, got a list"),
    (lambda d: d.pop("answers"), "answers", "missing (required)"),
])
def test_a_broken_key_names_its_field(bank, mutate, column, message):
    data = make_key(bank).as_dict(exclude_none=True)
    mutate(data)
    with pytest.raises(InputError) as exc:
        parse_key(data, "k.yaml")
    assert exc.value.column == column and message in str(exc.value)


def test_a_keys_plain_data_leaves_out_empty_fields_but_keeps_none_inside_evidence(bank):
    key = make_key(bank, policies={"q02": Policy(also_accept=["D"])})
    key.answers["q05"] = KeyAnswer(status="pending", reason="r", evidence={"pesq": None, "t": [1, 2]})
    data = key.as_dict(exclude_none=True)
    assert data["answers"]["q05"]["evidence"] == {"pesq": None, "t": [1, 2]}
    assert KeyAnswer(status="pending", evidence={"t": (1, 2)}).as_dict()["evidence"] == {"t": [1, 2]}
    assert "level" not in data["answers"]["q05"] and "policy" not in data["answers"]["q05"]
    assert data["answers"]["q02"]["policy"] == {"also_accept": ["D"], "drop": [], "full_credit": False}
    assert list(data) == ["format", "questions_sha256", "provenance", "answers"]
    assert AnswerKey.parse(data) == key


def test_a_keys_free_form_values_are_written_as_plain_data(bank, tmp_path):
    """Evidence and provenance hold what the checks and a TA put there; the key's YAML holds it as JSON would (as
    pydantic's JSON mode wrote it): a margin that is not a number is null, a date is text, a set a sorted list,
    names are text. A value no file can hold is an error of the check that made it, not a half-written key."""
    key = make_key(bank)
    key.answers["q05"] = KeyAnswer(status="pending", reason="r", evidence={
        "margin": float("nan"), "peak": float("inf"), "when": datetime.date(2026, 12, 1), "seeds": {3, 1, 2},
        "pair": (1, 2), 7: "seven", "exact": Fraction(1, 3), "file": Path("/a/b.wav")})
    write_key(key, tmp_path / "k.yaml")
    evidence = load_key(tmp_path / "k.yaml", bank).answers["q05"].evidence
    assert evidence == {"margin": None, "peak": None, "when": "2026-12-01", "seeds": [1, 2, 3], "pair": [1, 2],
                        "7": "seven", "exact": "1/3", "file": "/a/b.wav"}
    key.answers["q05"] = KeyAnswer(status="pending", reason="r", evidence={"what": object()})
    with pytest.raises(TypeError, match="object value .* cannot be written as plain data"):
        dump_key(key)
