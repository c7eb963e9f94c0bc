"""The student self-check gives exactly the TA's batch score for the same answers and key."""
import csv
import io

import pytest
from conftest import SAMPLE

from grader.errors import InputError
from grader.readers.formats import read_submissions
from grader.scoring import fmt_points
from grader.sheet import choose_attempt
from hw10 import selfcheck
from hw10.cli import main


@pytest.fixture(scope="module")
def batch(tmp_path_factory, bank):
    out = tmp_path_factory.mktemp("batch")
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(SAMPLE / "key.yaml"), "--out", str(out)]) == 0
    text = (out / "scores.csv").read_bytes().decode("utf-8-sig")
    return {r["id"]: r for r in csv.DictReader(io.StringIO(text))}


def test_selfcheck_equals_batch_score_for_every_sample_student(bank, batch):
    from grader.key import load_key

    key = load_key(SAMPLE / "key.yaml", bank)
    roster = read_submissions(SAMPLE / "export.csv", bank)
    groups = {}
    for sub in roster.submissions:
        sub.order = len(groups.setdefault(sub.student_id, []))
        groups[sub.student_id].append(sub)
    for sid, group in groups.items():
        chosen = choose_attempt(group, "latest", bank, key)
        answers = {q: list(v) for q, v in chosen.answers.items()}  # what the student would type in
        result = selfcheck(answers, key=key, bank=bank)
        assert fmt_points(result.total) == batch[sid]["total"], sid
        for row in result.rows:
            assert fmt_points(row.points) == batch[sid][row.qid], (sid, row.qid)


def test_selfcheck_reads_letters_like_students_type_them(bank):
    r = selfcheck({"q01": "b", 6: "A;B", "q10": "AF"}, key=SAMPLE / "key.yaml", bank=bank)
    assert fmt_points(r.total) == "1.9667"
    assert [row.yours for row in r.rows if row.qid in ("q01", "q06", "q10")] == [("B",), ("A", "B"), ("A", "F")]
    html = r._repr_html_()
    assert "<table" in html and "1.9667" in html and "q06" in html


def test_selfcheck_refuses_unknown_questions_and_flags_bad_letters(bank):
    with pytest.raises(InputError, match="unknown question"):
        selfcheck({"q13": "A"}, key=SAMPLE / "key.yaml", bank=bank)
    r = selfcheck({"q02": "Z"}, key=SAMPLE / "key.yaml", bank=bank)
    assert "not an option" in next(row.problem for row in r.rows if row.qid == "q02")


def test_selfcheck_reads_keys_and_letters_as_students_type_them(bank):
    r = selfcheck({"q1": "ｂ", "Ｑ０６": "A、B", "10": "Ａ，Ｆ"}, key=SAMPLE / "key.yaml", bank=bank)
    assert fmt_points(r.total) == "1.9667"  # as test_selfcheck_reads_letters_like_students_type_them
    with pytest.raises(InputError, match=r"q01 is given twice \('q01' and 'q1'\) with different answers"):
        selfcheck({"q01": "B", "q1": "C"}, key=SAMPLE / "key.yaml", bank=bank)
    r = selfcheck({"q01": "B", "q1": "b"}, key=SAMPLE / "key.yaml", bank=bank)  # the same answer twice is fine
    assert fmt_points(r.total) == "0.8"


def test_selfcheck_messages_name_the_notebook_arguments(bank):
    with pytest.raises(InputError) as exc:
        selfcheck({"q01": "B"}, questions="99", bank=bank)
    assert str(exc.value).startswith("questions='99': there is no question 99") and "--" not in str(exc.value)
    with pytest.raises(InputError) as exc:
        selfcheck({"q01": "B"}, questions="1", assets=SAMPLE / "key.yaml", device="cpu", bank=bank)  # a file
    assert "assets: must be a folder holding the Colab's files" in str(exc.value) and "--" not in str(exc.value)
    # q01 needs 2sAudio.wav, and no assets were given: pending, and the reason says which argument to pass
    r = selfcheck({"q01": "B"}, questions="1", mimi="architecture", device="cpu", no_cache=True, bank=bank)
    q01 = next(row for row in r.rows if row.qid == "q01")
    assert q01.points is None and "pass assets=DIR with the Colab's files" in q01.evidence
    assert "--" not in str(r)


def test_notebook_wording():
    from checks.pipeline.options import flag_keywords
    from hw10.notebook import notebook_wording as wording

    def notebook_wording(text: str) -> str:
        return wording(text, flag_keywords())

    assert notebook_wording("download it (`hf download kyutai/mimi --local-dir mimi`) and pass --mimi mimi; "
                            "`--mimi architecture` answers the structural questions") == (
        "download it (`hf download kyutai/mimi --local-dir mimi`) and pass mimi='mimi'; "
        "`mimi='architecture'` answers the structural questions")
    assert notebook_wording("--device cuda: no GPU here; use --device cpu (or auto)") == (
        "device='cuda': no GPU here; use device='cpu' (or auto)")
    assert notebook_wording("fewer clips than --per-class 3; lower --per-class or add clips, or leave --csm out") == (
        "fewer clips than per_class=3; lower per_class or add clips, or leave csm out")
    assert notebook_wording("--csm-dtype 'x': choose; (--dtype bfloat16); --no-cache") == (
        "csm_dtype='x': choose; (dtype='bfloat16'); no_cache=True")
    assert notebook_wording("hw10 grade --allow-pending") == "hw10 grade --allow-pending"  # not a selfcheck argument


def test_notebook_keywords_are_selfcheck_arguments():
    """Every flag the self-check rewrites names a keyword selfcheck() passes on to KeyRunOptions (or its own)."""
    import dataclasses

    from checks.pipeline.options import KeyRunOptions, flag_keywords

    fields = {f.name for f in dataclasses.fields(KeyRunOptions)}
    keywords = flag_keywords()
    assert set(keywords.values()) - fields == {"questions"}  # selfcheck(questions=…) becomes KeyRunOptions.select
    assert keywords["questions"] == "questions" and keywords["no-cache"] == "no_cache" and "out" not in keywords


def test_the_notebook_function_stays_callable_after_the_command_line_is_imported():
    """`from hw10 import selfcheck` is the function, whatever else was imported first (a submodule of the same
    name would replace it on the package as soon as anything imported that submodule)."""
    import hw10
    import hw10.cli  # noqa: F401  (imports hw10.notebook, the self-check's module)
    from hw10 import selfcheck

    assert callable(selfcheck) and selfcheck is hw10.selfcheck and selfcheck.__module__ == "hw10"


def test_the_self_check_warns_about_unanswered_questions_and_says_why(tmp_path, capsys):
    """`hw10 check` (and the notebook) name the questions left blank, and show the key's evidence line beside each
    answer, as the student's feedback page will."""
    from conftest import ROOT

    answers = tmp_path / "mine.yaml"
    answers.write_text("q01: B\nq02: A\n", encoding="utf-8")
    assert main(["check", "--answers", str(answers), "--key", str(ROOT / "keys" / "structural.yaml")]) == 0
    out = capsys.readouterr().out
    assert "not answered: q03, q04 (a blank answer scores 0; answer them before you submit)" in out
    assert "8sAudio.wav (8.00 s) → [1, 32, 100]" in out  # q02's evidence, next to the wrong answer A
