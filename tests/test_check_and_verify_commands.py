"""`hw10 check` (student self-check) and `hw10 verify` (official key vs evidence) on real files."""
from conftest import ROOT, SAMPLE, SAMPLE_CORRECT, make_key
from grader.cli import main
from grader.key import write_key

TINY = ROOT / "fixtures" / "tiny_mimi"
ASSETS = ROOT / "fixtures" / "assets"


def test_check_against_a_key_equals_the_batch_grader(tmp_path, capsys):
    answers = tmp_path / "me.txt"
    answers.write_text("# my answers\nq01 B\nq02: C\n6 = A, B\nq10 A;F\n", encoding="utf-8")
    assert main(["check", "--answers", str(answers), "--key", str(SAMPLE / "key.yaml")]) == 0
    self_out = capsys.readouterr().out
    plain = tmp_path / "me.csv"
    plain.write_text("id,name,q01,q02,q03,q04,q05,q06,q07,q08,q09,q10,q11,q12\nme,Me,B,C,,,,A;B,,,,A;F,,\n",
                     encoding="utf-8")
    assert main(["grade", str(plain), "--key", str(SAMPLE / "key.yaml"), "--out", str(tmp_path / "o")]) == 0
    batch_total = (tmp_path / "o" / "scores.csv").read_text(encoding="utf-8-sig").splitlines()[1].split(",")[-3]
    assert batch_total == "2.7667"  # 0.8 + 0.8 + 0.5 + 2/3
    assert f"total {batch_total} / 10" in self_out


def test_check_computes_the_evidence_when_no_key_is_given(tmp_path, capsys):
    answers = tmp_path / "me.yaml"
    answers.write_text("q04: B\nq05: A\n", encoding="utf-8")
    assert main(["check", "--answers", str(answers), "--mimi", str(TINY), "--device", "cpu",
                 "--assets", str(ASSETS)]) == 0
    out = capsys.readouterr().out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("q0")}
    assert "0.8/0.8 ✓" in lines["q04"]          # computed from the tiny Mimi: integer codes
    assert "0/0.8 ✗" in lines["q05"] and " D " in lines["q05"]  # the fixture's row 2047 is option D
    assert "not graded" in lines["q01"]         # not asked, so not computed: never guessed
    assert "total 0.8 / 1.6 (key: computed here)" in out
    assert "q04, q05: computed from hw10 test fixtures" in out  # the tiny Mimi is a fixture: said so


def test_check_refuses_bad_answer_files(tmp_path, capsys):
    bad = tmp_path / "a.txt"
    bad.write_text("q01 B\nthis is not an answer line\n", encoding="utf-8")
    assert main(["check", "--answers", str(bad), "--key", str(SAMPLE / "key.yaml")]) == 2
    assert "a.txt, row 2" in capsys.readouterr().err


def test_verify_against_a_computed_key(tmp_path, bank, capsys):
    official = tmp_path / "official.yaml"
    write_key(make_key(bank), official)  # the sample answers: q01 B, q02 C, q03 B, q04 B, …
    assert main(["verify", "--key", str(official), "--against", str(ROOT / "keys" / "structural.yaml")]) == 0
    out = capsys.readouterr().out
    assert "4 agree, 0 disagree, 8 not verified" in out
    assert main(["verify", "--key", str(official), "--against", str(ROOT / "keys" / "structural.yaml"),
                 "--strict"]) == 1
    capsys.readouterr()
    wrong = tmp_path / "wrong.yaml"
    write_key(make_key(bank, correct={**SAMPLE_CORRECT, "q02": ["A"]}), wrong)
    assert main(["verify", "--key", str(wrong), "--against", str(ROOT / "keys" / "structural.yaml")]) == 1
    out = capsys.readouterr().out
    assert "q02  official A" in out and "DISAGREES" in out and "ceil(192000/1920) = 100" in out


def test_verify_computes_evidence(tmp_path, bank, capsys):
    official = tmp_path / "official.yaml"
    write_key(make_key(bank), official)  # says q05 = C; the tiny fixture's codebook says D
    assert main(["verify", "--key", str(official), "--questions", "5", "--mimi", str(TINY), "--device", "cpu",
                 "--assets", str(ASSETS)]) == 1
    out = capsys.readouterr().out
    assert "q05  official C        computed D        DISAGREES" in out
    assert "note: the evidence for q05 comes from hw10 test fixtures" in out
