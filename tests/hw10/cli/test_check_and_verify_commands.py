"""`hw10 check` (student self-check) and `hw10 verify` (official key vs evidence) on real files."""
import pytest
from conftest import ROOT, SAMPLE, SAMPLE_CORRECT, make_key

from grader.key import write_key
from hw10.cli import main

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
    import csv

    rows = list(csv.DictReader((tmp_path / "o" / "scores.csv").read_text(encoding="utf-8-sig").splitlines()))
    batch_total = rows[0]["total"]
    assert batch_total == "2.7667"  # 0.8 + 0.8 + 0.5 + 2/3
    assert f"total {batch_total} / 10" in self_out


def test_check_computes_the_evidence_when_no_key_is_given(tmp_path, capsys):
    answers = tmp_path / "me.yaml"
    answers.write_text("q04: B\nq05: A\n", encoding="utf-8")
    assert main(["check", "--answers", str(answers), "--mimi", str(TINY), "--device", "cpu",
                 "--assets", str(ASSETS)]) == 0
    out, err = capsys.readouterr()
    assert "hw10 check:" in err and "hw10 key:" not in err  # the progress bar says which command runs
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


def test_check_labels_itsprogress_bar(capsys):
    from hw10.cli.compute import progress_bar

    update = progress_bar(["q04", "q05"], "hw10 check")
    assert update is not None
    update("q04", type("Outcome", (), {"status": "computed"})(), False)
    err = capsys.readouterr().err
    assert "hw10 check:" in err and "hw10 key" not in err


def _key_cmd(out, *extra):
    # q01 without --assets: pending for the missing 2sAudio.wav, so no model ever loads
    return main(["key", "--questions", "1", "--mimi", "architecture", "--device", "cpu", "--no-cache",
                 "--out", str(out), *extra])


def test_key_refuses_to_overwrite_a_hand_written_key(tmp_path, capsys):
    out = tmp_path / "official.yaml"
    out.write_bytes((SAMPLE / "key.yaml").read_bytes())  # status: asserted
    before = out.read_bytes()
    assert _key_cmd(out) == 2
    stdout, err = capsys.readouterr()
    assert stdout == ""  # refused before anything ran: not even the run's header
    assert (f"error: {out}: holds a TA's work (status: asserted for q01, q02, q03, q04, q05, q06, q07, q08, "
            "q09, q10, q11, q12); choose another --out or pass --force to overwrite it") in err
    assert out.read_bytes() == before
    assert _key_cmd(out, "--force") == 0
    assert "status: asserted" not in out.read_text(encoding="utf-8")
    assert f"wrote {out}: 0 computed, 12 pending" in capsys.readouterr().out


def test_key_refuses_to_overwrite_a_reviewed_key_or_write_through_a_link(tmp_path, capsys, bank):
    """A reviewed key holds a TA's verdicts and notes: a new computation never replaces it; a symbolic link at --out
    is never written through (the file it points to stays as it was)."""
    from dataclasses import replace as with_

    from grader.key import ClaimReview, dump_key, load_key

    key = load_key(SAMPLE / "key.yaml", bank)
    a = key.answers["q05"]
    key.answers["q05"] = with_(a, status="reviewed", review=[
        ClaimReview(option=x, verdict="true" if x in a.correct else "false", decided_by="ta", note="heard it",
                    who="TA Lin", when="2026-12-04T10:00:00+00:00") for x in bank["q05"].letters])
    out = tmp_path / "reviewed.yaml"
    out.write_text(dump_key(key), encoding="utf-8")
    before = out.read_bytes()
    assert _key_cmd(out) == 2
    err = capsys.readouterr().err
    assert "holds a TA's work (status: asserted for q01" in err and "q12; reviewed for q05)" in err
    assert out.read_bytes() == before
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("mine", encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(elsewhere)
    assert _key_cmd(link) == 2
    assert "is a symbolic link (never written through)" in capsys.readouterr().err
    assert elsewhere.read_text(encoding="utf-8") == "mine" and link.is_symlink()


def test_key_refuses_to_overwrite_a_file_that_is_not_a_key(tmp_path, capsys):
    notes = tmp_path / "key.yaml"
    notes.write_text("my notes: q01 is B, I think\n", encoding="utf-8")
    assert _key_cmd(notes) == 2
    assert (f"error: {notes}: not an hw10 answer key (format: None, expected "
            "'hw10-key/1'); choose another --out or pass --force") in capsys.readouterr().err
    assert notes.read_text(encoding="utf-8") == "my notes: q01 is B, I think\n"
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: hw10-key/1\nanswers: [\n", encoding="utf-8")
    assert _key_cmd(broken) == 2
    assert f"{broken}: is not an hw10 answer key (malformed YAML" in capsys.readouterr().err
    assert _key_cmd(tmp_path) == 2  # a folder: --force would not help either
    assert f"{tmp_path}: is a folder" in capsys.readouterr().err


def test_key_overwrites_a_key_it_computed_before(tmp_path, capsys):
    out = tmp_path / "key.yaml"
    assert _key_cmd(out) == 0  # a new file
    first = out.read_text(encoding="utf-8")
    assert "status: pending" in first and "status: asserted" not in first
    assert _key_cmd(out) == 0  # a rerun replaces its own key
    assert f"wrote {out}" in capsys.readouterr().out
    structural = tmp_path / "structural.yaml"
    structural.write_bytes((ROOT / "keys" / "structural.yaml").read_bytes())  # computed + pending
    assert _key_cmd(structural) == 0


@pytest.mark.parametrize("argv", [["doctor"], ["key", "--questions", "1"], ["check", "--answers", "ANSWERS"]])
def test_model_commands_in_a_grader_only_install_say_which_extra(tmp_path, argv):
    """`pip install .` (no models extra): the commands that compute evidence end in exit 2 and one line naming the
    extra to install, never a ModuleNotFoundError traceback. The extras' modules are blocked here (this machine has
    them)."""
    import subprocess
    import sys

    answers = tmp_path / "mine.yaml"
    answers.write_text("q01: B\n", encoding="utf-8")
    argv = [str(answers) if a == "ANSWERS" else a for a in argv]
    blocked = ("torch", "numpy", "scipy", "soundfile", "transformers", "soxr", "pesq", "opencc")
    code = ("import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked)
            + f"from hw10.cli import main\nsys.exit(main({argv!r}))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and 'pip install ".[models]"' in res.stderr + res.stdout
