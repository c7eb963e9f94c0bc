"""How students' answers are read: `hw10 check --answers FILE`, plain-CSV cells and one student's YAML/JSON.

Students on Chinese keyboards type full-width characters (`Ｑ０３：Ｂ`, `Ａ，Ｃ`) and the ideographic comma
(`A、C`, which NFKC does not change); every reader understands them the same way. Whatever cannot be read
stops the run with exit 2 naming the file and line, and an answer key given where answers belong is refused.
"""
import csv
import io
import json

import pytest
from conftest import SAMPLE

from grader.readers.plain import parse_letters, question_id
from hw10.cli import main

KEY = str(SAMPLE / "key.yaml")  # q01 B, q02 C, q03 B, q04 B, q05 C, q06 ABDE, …, q10 ACF


def check(tmp_path, capsys, text: str, name: str = "me.txt") -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    rc = main(["check", "--answers", str(path), "--key", KEY])
    out, err = capsys.readouterr()
    return rc, out, err


def rows(out: str) -> dict[str, list[str]]:
    """question → [yours, key, points] of the self-check table."""
    return {ln.split()[0]: ln.split()[1:4] for ln in out.splitlines() if ln[:1] == "q" and ln[1:3].isdigit()}


def test_check_reads_full_width_and_ideographic_punctuation(tmp_path, capsys):
    typed = ("# 我的答案\n"
             "q1 b\n"             # one digit, lower case
             "Ｑ０２　Ｃ\n"         # full-width letters, digits and space
             "q03：B\n"            # full-width colon
             "q04 (B)\n"           # in parentheses
             "q05 c.\n"            # trailing full stop
             "q06: A、C\n"         # ideographic comma (NFKC keeps it)
             "q10: Ａ，Ｃ\n"        # full-width letters and comma
             "q11：（Ｃ）。\n")     # full-width parentheses and the ideographic full stop
    rc, out, err = check(tmp_path, capsys, typed)
    assert rc == 0, err
    rc, ascii_out, err = check(tmp_path, capsys, "q01 B\nq02 C\nq03 B\nq04 B\nq05 C\nq06 A,C\nq10 A,C\nq11 C\n",
                               "ascii.txt")
    assert rc == 0, err
    got = rows(out)
    assert got == rows(ascii_out)
    assert {q: got[q][0] for q in ("q01", "q02", "q03", "q04", "q05", "q06", "q10", "q11")} == {
        "q01": "B", "q02": "C", "q03": "B", "q04": "B", "q05": "C", "q06": "A,C", "q10": "A,C", "q11": "C"}
    assert "total 5.4667 / 10" in out  # 6 × 0.8 + q06 (1 − 1)/4 → 0 + q10 2/3


@pytest.mark.parametrize("text, where, says", [
    ("q01 B\nthis is not an answer line\n", "row 2", "cannot read 'this is not an answer line'"),
    ("q01 B\nq05 banana\n", "row 2", "cannot read the answer to q05, 'banana': BANANA is not an option of q05"),
    ("q01 B\n\nq06: A、Z\n", "row 3", "Z is not an option of q06"),
    ("q13 B\n", "row 1", "no question 'q13' in this quiz (questions are q01 … q12)"),
    ("q0 B\n", "row 1", "no question 'q0'"),
    ("q01: B\nq13: C\n", "row 2", "no question 'q13'"),  # YAML: still the line
])
def test_check_refuses_what_it_cannot_read_naming_file_and_line(tmp_path, capsys, text, where, says):
    rc, out, err = check(tmp_path, capsys, text)
    assert rc == 2
    assert f"me.txt, {where}: " in err and says in err, err
    assert out == ""


@pytest.mark.parametrize("text", ["", "\n\n", "# my answers\n# q01 B\n", "q01:\nq02\n", "{}\n", "answers: {}\n",
                                  "id: r12345678\nname: Me\n"])
def test_check_refuses_a_file_without_answers(tmp_path, capsys, text):
    rc, out, err = check(tmp_path, capsys, text)
    assert rc == 2
    assert "me.txt: no answers found" in err
    assert "total" not in out


def test_check_refuses_a_question_answered_twice_differently(tmp_path, capsys):
    rc, _, err = check(tmp_path, capsys, "q01 B\nq02 C\nq1 c\n")
    assert rc == 2
    assert "me.txt, row 3: q01 is answered twice with different answers: B on line 1 and C on line 3" in err
    rc, _, err = check(tmp_path, capsys, "q01: B\nq02: C\nQ1: C\n", "me.yaml")  # YAML keeps both lines too
    assert rc == 2
    assert "me.yaml, row 3: q01 is answered twice with different answers: B on line 1 and C on line 3" in err
    rc, _, err = check(tmp_path, capsys, "q01: B\nq01: C\n", "dup.yaml")  # a repeated YAML key is not dropped
    assert rc == 2 and "dup.yaml, row 2: q01 is answered twice" in err
    rc, out, err = check(tmp_path, capsys, "q01 B\nq06 A, C\nq1 b\nq06: C、A\n")  # identical repeats are fine
    assert rc == 0, err
    assert rows(out)["q01"][0] == "B" and rows(out)["q06"][0] == "A,C"


def test_check_reads_yaml_and_json_like_text(tmp_path, capsys):
    rc, text_out, err = check(tmp_path, capsys, "q01 b\nq06 A、C\nq10 Ａ，Ｃ\n")
    assert rc == 0, err
    rc, yaml_out, err = check(tmp_path, capsys, "id: me\nanswers:\n  Q1: b\n  q06: A、C\n  10: [Ａ, c]\n", "me.yaml")
    assert rc == 0, err
    rc, json_out, err = check(tmp_path, capsys, json.dumps({"q1": "b", "q06": ["A", "C"], "q10": "Ａ，Ｃ"}), "me.json")
    assert rc == 0, err
    rc, tabs_out, err = check(tmp_path, capsys, '{\n\t"q01": "b",\n\t"q06": "A、C",\n\t"q10": "AC"\n}\n', "tabs.json")
    assert rc == 0, err  # JSON indented with tabs, which YAML does not read
    assert rows(text_out) == rows(yaml_out) == rows(json_out) == rows(tabs_out)
    rc, _, err = check(tmp_path, capsys, '{\n\t"q01": "b",\n\t"q06": [A]\n}\n', "broken.json")
    assert rc == 2 and "broken.json, row 3: malformed JSON" in err


@pytest.mark.parametrize("value, letters", [
    ("A;C", ("A", "C")), ("A,C", ("A", "C")), ("AC", ("A", "C")), ("a c", ("A", "C")), ("b", ("B",)),
    ("A、C", ("A", "C")), ("Ａ，Ｃ", ("A", "C")), ("ＡＣ", ("A", "C")), ("A；C", ("A", "C")), ("(B)", ("B",)),
    ("b.", ("B",)), ("[A, C]", ("A", "C")), ("（Ａ）、（Ｃ）", ("A", "C")), (["ａ", "c"], ("A", "C")), ("", ()),
    (None, ()), ("　", ()),
])
def test_parse_letters_normalises_what_students_type(bank, value, letters):
    assert parse_letters(value, bank["q06"]) == (letters, None)


def test_parse_letters_still_flags_what_is_not_an_option(bank):
    assert parse_letters("A、Z", bank["q06"]) == (("A",), "not an option of q06 (ABCDEFGH): Z")
    assert parse_letters("Ｂ，Ｃ", bank["q01"])[1].startswith("several choices (B, C) in a single-answer question")


@pytest.mark.parametrize("key, qid", [("q01", "q01"), ("Q1", "q01"), ("1", "q01"), (1, "q01"), ("Ｑ０３", "q03"),
                                      ("q 12", "q12"), ("q13", "q13"), ("id", None), (True, None), ("q123", None)])
def test_question_id(key, qid):
    assert question_id(key) == qid


def test_grade_and_check_read_the_same_cells_the_same_way(tmp_path, capsys):
    plain = tmp_path / "class.csv"
    plain.write_text("id,name,q01,q02,q03,q04,q05,q06,q07,q08,q09,q10,q11,q12\n"
                     "s1,One,b,Ｃ,,,,A、C,,,,Ａ，Ｃ,(C),\n", encoding="utf-8")
    assert main(["grade", str(plain), "--key", KEY, "--out", str(tmp_path / "o")]) == 0
    scores = next(csv.DictReader(io.StringIO((tmp_path / "o" / "scores.csv").read_text(encoding="utf-8-sig"))))
    assert scores["status"] == "ok", scores["notes"]
    rc, out, err = check(tmp_path, capsys, "q01 b\nq02 Ｃ\nq06 A、C\nq10 Ａ，Ｃ\nq11 (C)\n")
    assert rc == 0, err
    got = rows(out)
    for q in ("q01", "q02", "q06", "q10", "q11"):
        assert got[q][2].split("/")[0] == scores[q], q
    assert f"total {scores['total']} / 10" in out


def test_grade_reads_one_students_yaml_with_typed_keys(tmp_path):
    me = tmp_path / "me.yaml"
    me.write_text("id: r1\nanswers:\n  Q1: b\n  2: Ｃ\n  q06: A、C\n", encoding="utf-8")
    assert main(["grade", str(me), "--key", KEY, "--out", str(tmp_path / "o")]) == 0
    scores = next(csv.DictReader(io.StringIO((tmp_path / "o" / "scores.csv").read_text(encoding="utf-8-sig"))))
    assert (scores["q01"], scores["q02"], scores["q06"], scores["total"]) == ("0.8", "0.8", "0", "1.6")


def test_grade_refuses_one_students_yaml_answering_a_question_twice(tmp_path, capsys):
    me = tmp_path / "me.yaml"
    me.write_text("q01: B\nq1: C\n", encoding="utf-8")
    assert main(["grade", str(me), "--key", KEY, "--out", str(tmp_path / "o")]) == 2
    assert "me.yaml, column 'q1': q01 is given twice with different answers: q01: 'B' and q1: 'C'" \
        in capsys.readouterr().err


KEY_REFUSED = "is an answer key (format hw10-key/1), not a student's answers"


def test_an_answer_key_is_not_a_students_answers(tmp_path, capsys):
    assert main(["grade", KEY, "--key", KEY, "--out", str(tmp_path / "o")]) == 2
    assert f"error: {KEY} {KEY_REFUSED}" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(["grade", KEY, "--format", "single", "--key", KEY, "--out", str(tmp_path / "o")]) == 2
    assert KEY_REFUSED in capsys.readouterr().err
    assert main(["check", "--answers", KEY, "--key", KEY]) == 2
    out, err = capsys.readouterr()
    assert f"error: {KEY} {KEY_REFUSED}" in err and out == ""


def test_a_key_without_its_format_line_is_still_a_key(tmp_path, capsys):
    import yaml

    data = yaml.safe_load((SAMPLE / "key.yaml").read_text(encoding="utf-8"))
    del data["format"]
    for name, text in (("k.yaml", yaml.safe_dump(data)), ("k.json", json.dumps(data, indent="\t"))):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert main(["check", "--answers", str(path), "--key", KEY]) == 2
        assert f"{path} is an answer key" in capsys.readouterr().err
        assert main(["grade", str(path), "--key", KEY, "--out", str(tmp_path / "o")]) == 2
        assert f"{path} is an answer key" in capsys.readouterr().err
