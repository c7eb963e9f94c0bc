"""`hw10 grade` end to end on real files: outputs, attempts, duplicates, pending, regrade, safety, determinism."""
import csv
import hashlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE, SAMPLE_CORRECT
from exportkit import Row, write_export

from grader.key import Policy
from hw10.cli import main


def read_csv(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), f"{path.name} must start with a UTF-8 BOM"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def grade(*args) -> int:
    return main(["grade", *map(str, args)])


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(SAMPLE / "key.yaml"), "--out", str(out),
                 "--assignment", "HW10 (65482)"]) == 0
    return out


# Hand-computed from the rows of fixtures/sample_class/export.csv with the sample key
# (q01 B, q02 C, q03 B, q04 B, q05 C, q06 ABDE, q07 C, q08 C, q09 B, q10 ACF, q11 C, q12 A).
HAND = {
    # id: (total, status)  -- selections in the comment, worked out on paper
    "148200": ("3.7", "ok"),       # q01,q02,q04,q12 right (3.2); q06 AD = 2/4; q10 AD = 1-1 = 0
    "148228": ("0.8", "ok"),       # latest attempt (2): only q04 right; q06 ACEH = 2-2 = 0; q10 DF = 1-1 = 0
    "148319": ("5.8", "ok"),       # <script> name: q01,q02,q03,q07,q08,q12 (4.8); q06 ABDE = 1; q10 blank
    "148494": ("1.4667", "ok"),    # =HYPERLINK name: q01 (0.8); q06 BGH = 1-2 -> 0; q10 AF = 2/3
    "148585": ("1.85", "check"),   # q03 cell unknown (0, flagged); q02, q11 (1.6); q06 DEG = 2-1 = 1/4
    "148249": ("7.7333", "ok"),    # 8 singles right (6.4); q04 blank; q06 ABDE = 1; q10 ACD = 2-1 = 1/3
    "148543": ("1.05", "ok"),      # q11 (0.8); q06 ABCDF = 3-2 = 1/4; q10 BE = 0-2 -> 0
    "148893": ("0.3333", "ok"),    # "Wang, Xiao-Ming": no single right; q06 FH = 0; q10 F = 1/3
    "149250": ("4.75", "ok"),      # "+886 Lin": q02,q04,q05,q07,q12 (4.0); q06 ABE = 3/4; q10 BCD = 1-2 -> 0
    "148207": ("1.05", "ok"),      # q03 (0.8); q06 B = 1/4; q10 EFG = 1-2 -> 0
    "148942": ("2.4", "ok"),       # q01,q02,q05 (2.4); q06 F = 0-1 -> 0; q10 BCEG = 1-3 -> 0
}


def test_hand_computed_scores_match(sample_out):
    rows = {r["id"]: r for r in read_csv(sample_out / "scores.csv")}
    for sid, (total, status) in HAND.items():
        assert (rows[sid]["total"], rows[sid]["status"]) == (total, status), sid
    assert rows["148494"]["q10"] == "0.6667" and rows["148249"]["q10"] == "0.3333"
    assert rows["148585"]["q03"] == "0" and "unknown choice text" in rows["148585"]["notes"]
    assert "2 attempts in the export; graded attempt 2" in rows["148228"]["notes"]


@pytest.mark.parametrize("policy, total", [("first", "3.2"), ("highest", "3.2"), ("latest", "0.8")])
def test_attempt_policies_on_the_sample(tmp_path, policy, total):
    assert grade(SAMPLE / "export.csv", "--key", SAMPLE / "key.yaml", "--out", tmp_path, "--attempt", policy) == 0
    rows = {r["id"]: r for r in read_csv(tmp_path / "scores.csv")}
    assert rows["148228"]["total"] == total


def test_every_student_exactly_once_in_every_output(sample_out):
    ids_in = set()
    with open(SAMPLE / "export.csv", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            ids_in.add(row["id"])
    scores = [r["id"] for r in read_csv(sample_out / "scores.csv")]
    grades = [r["ID"] for r in read_csv(sample_out / "grades.csv")][1:]  # after Points Possible
    assert sorted(scores) == sorted(ids_in) == sorted(grades)
    assert len(scores) == len(set(scores)) == 300
    assert len(list((sample_out / "feedback").glob("*.html"))) == 300


def test_gradebook_import_format(sample_out):
    raw = (sample_out / "grades.csv").read_bytes().decode("utf-8-sig")
    lines = raw.split("\r\n")
    assert lines[0] == "Student,ID,SIS Login ID,Section,HW10 (65482)"
    assert lines[1].startswith("    Points Possible,,,,10")
    scores = {r["id"]: r["total"] for r in read_csv(sample_out / "scores.csv")}
    for r in read_csv(sample_out / "grades.csv")[1:]:
        assert r["HW10 (65482)"] == scores[r["ID"]]


def test_names_come_out_inert(sample_out):
    grades = (sample_out / "grades.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in grades and "'+886 Lin" in grades
    for row in csv.reader(io.StringIO(grades)):
        for cell in row:
            assert not cell.startswith(("=", "+", "@")), cell
    report = (sample_out / "report.html").read_text(encoding="utf-8")
    fb = (sample_out / "feedback" / "148319.html").read_text(encoding="utf-8")
    md = (sample_out / "feedback" / "148319.md").read_text(encoding="utf-8")
    assert "<script>alert" not in fb and "&lt;script&gt;" in fb
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "<script" not in report


def test_report_has_histogram_items_and_kr20(sample_out):
    report = (sample_out / "report.html").read_text(encoding="utf-8")
    assert 'src="data:image/svg+xml;base64,' in report and "Histogram of total scores" in report
    assert "KR-20" in report and "Option shares for q06" in report
    items = read_csv(sample_out / "items.csv")
    assert [r["question"] for r in items][:12] == [f"q{i:02d}" for i in range(1, 13)]
    assert items[-1]["question"] == "quiz" and "KR-20" in items[-1]["flags"]
    assert all(0 <= float(r["difficulty"]) <= 1 for r in items[:12])


def test_reruns_are_byte_identical(tmp_path, sample_out):
    assert grade(SAMPLE / "export.csv", "--key", SAMPLE / "key.yaml", "--out", tmp_path,
                 "--assignment", "HW10 (65482)") == 0
    assert tree_digest(tmp_path) == tree_digest(sample_out)


def test_pending_question_is_not_graded_everywhere(tmp_path, bank, key_file, capsys):
    key = key_file(pending=("q05",))
    export = tmp_path / "e.csv"
    write_export(export, bank, [Row("1", answers={"q05": ["C"], "q01": ["B"]}), Row("2")])
    assert grade(export, "--key", key, "--out", tmp_path / "o") == 3  # grades.csv withheld: its own exit status
    out = capsys.readouterr().out
    assert "NOT GRADED (pending in the key): q05" in out and "NOT WRITTEN grades.csv" in out
    assert out.splitlines()[-1] == "grades.csv NOT WRITTEN (exit status 3): the other files are complete"
    rows = read_csv(tmp_path / "o" / "scores.csv")
    assert [r["q05"] for r in rows] == ["not graded", "not graded"]
    assert rows[0]["total"] == "0.8" and "not graded: q05" in rows[0]["notes"]
    assert not (tmp_path / "o" / "grades.csv").exists()
    assert "Not graded" in (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "not graded" in (tmp_path / "o" / "feedback" / "1.md").read_text(encoding="utf-8")
    assert any(r["question"] == "q05" and r["difficulty"] == "not graded"
               for r in read_csv(tmp_path / "o" / "items.csv"))
    assert grade(export, "--key", key, "--out", tmp_path / "o", "--allow-pending") == 0
    grades = read_csv(tmp_path / "o" / "grades.csv")
    assert grades[0]["HW10 Speech Generation"] == "9.2"  # Points Possible without q05


def test_regrade(tmp_path, bank, key_file, capsys):
    old = key_file()
    new = key_file(policies={"q02": Policy(also_accept=["D"])}, correct={**SAMPLE_CORRECT, "q06": ["A", "B", "D"]})
    export = tmp_path / "e.csv"
    write_export(export, bank, [Row("1", answers={"q02": ["D"]}), Row("2", answers={"q06": ["A", "E"]}),
                                Row("3", answers={"q01": ["B"]})])
    assert grade(export, "--key", new, "--previous-key", old, "--out", tmp_path / "o") == 0
    assert "1 up, 1 down, 1 unchanged" in capsys.readouterr().out
    rows = {r["id"]: r for r in read_csv(tmp_path / "o" / "regrade.csv")}
    assert (rows["1"]["old_total"], rows["1"]["new_total"], rows["1"]["delta"]) == ("0", "0.8", "0.8")
    assert rows["1"]["changed"] == "q02 0→0.8"
    # q06 keyed ABDE -> ABD: A,E was 2/4 right = 0.5, now A right and E wrong = 1/3 - 1/3 = 0.
    assert (rows["2"]["delta"], rows["2"]["changed"]) == ("-0.5", "q06 0.5→0")
    assert rows["3"]["delta"] == "0" and rows["3"]["changed"] == ""
    assert "Regrade against" in (tmp_path / "o" / "report.html").read_text(encoding="utf-8")


def test_duplicate_rows(tmp_path, bank, key_file, capsys):
    key = key_file()
    same = tmp_path / "same.csv"
    write_export(same, bank, [Row("1", answers={"q01": ["B"]}), Row("1", answers={"q01": ["B"]})])
    assert grade(same, "--key", key, "--out", tmp_path / "o") == 0
    rows = read_csv(tmp_path / "o" / "scores.csv")
    assert len(rows) == 1 and "repeats row 2" in rows[0]["notes"]
    conflict = tmp_path / "conflict.csv"
    write_export(conflict, bank, [Row("1", answers={"q01": ["B"]}), Row("1", answers={"q01": ["C"]})])
    assert grade(conflict, "--key", key, "--out", tmp_path / "o2") == 2
    err = capsys.readouterr().err
    assert "conflict.csv, row 3, column 'attempt'" in err and "rows 2 and 3" in err


def test_attempts_without_attempt_column_are_newest_first(tmp_path, bank, key_file):
    info = ["name", "id", "section", "section_id", "submitted"]
    export = tmp_path / "e.csv"
    write_export(export, bank, [Row("1", attempt=None, answers={"q01": ["B"]}),
                                Row("1", attempt=None, answers={"q01": ["A"]})], info=info)
    assert grade(export, "--key", key_file(), "--out", tmp_path / "o") == 0
    row = read_csv(tmp_path / "o" / "scores.csv")[0]
    assert row["q01"] == "0.8"
    # ordered by row, not by attempt numbers: graded, but the TA is asked to look
    assert row["status"] == "check" and "no attempt numbers" in row["notes"]


def test_plain_csv_with_two_different_rows_for_one_student_exits_2(tmp_path, key_file, capsys):
    header = "id,name,q01,q02,q03,q04,q05,q06,q07,q08,q09,q10,q11,q12\n"
    plain = tmp_path / "plain.csv"
    plain.write_text(header + "1,A,B,,,,,,,,,,,A\n1,A,B,,,,,,,,,,,B\n", encoding="utf-8")
    assert grade(plain, "--key", key_file(), "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "plain.csv, row 3, column 'id'" in err and "rows 2 and 3" in err and "no attempts" in err
    plain.write_text(header + "1,A,B,,,,,,,,,,,A\n1,A,B,,,,,,,,,,,A\n", encoding="utf-8")
    assert grade(plain, "--key", key_file(), "--out", tmp_path / "o") == 0
    row = read_csv(tmp_path / "o" / "scores.csv")[0]
    assert row["status"] == "ok" and "repeats row 2" in row["notes"]


@pytest.mark.parametrize("broken_row, fragment", [(2, "row 3: row has 12 cells"),    # a broken row inside
                                                  (-1, "the file looks cut off")])  # a cut download
def test_rows_with_missing_cells_are_refused_never_graded_as_blank(tmp_path, bank, key_file, capsys, broken_row,
                                                                   fragment):
    import csv
    import io

    export = tmp_path / "cut.csv"
    write_export(export, bank, [Row(str(i), answers={"q01": ["B"], "q12": ["A"]}) for i in range(1, 6)])
    rows = list(csv.reader(io.StringIO(export.read_text(encoding="utf-8-sig"), newline="")))
    rows[broken_row] = rows[broken_row][:12]  # cut at a cell boundary, as a truncated download is
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    export.write_text(out.getvalue(), encoding="utf-8")
    assert grade(export, "--key", key_file(), "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "cut.csv" in err and fragment in err and "cells but the header has" in err
    assert not (tmp_path / "o" / "scores.csv").exists()


@pytest.mark.parametrize("make, fragment", [
    (lambda p, bank: p.write_bytes(b"PK\x03\x04rest"), "Excel workbook"),
    (lambda p, bank: write_export(p, bank, [Row("1")], drop=("q04",)), "no column for q04"),
])
def test_bad_exports_exit_2_with_a_message(tmp_path, bank, key_file, capsys, make, fragment):
    export = tmp_path / "bad.csv"
    make(export, bank)
    assert grade(export, "--key", key_file(), "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.csv" in err and fragment in err


def test_malformed_key_exits_2(tmp_path, capsys):
    key = tmp_path / "k.yaml"
    key.write_text("format: hw10-key/1\nanswers: [\n", encoding="utf-8")
    assert grade(SAMPLE / "export.csv", "--key", key, "--out", tmp_path / "o") == 2
    assert "k.yaml" in capsys.readouterr().err


def test_plain_csv_and_yaml_inputs(tmp_path, key_file):
    key = key_file()
    plain = tmp_path / "plain.csv"
    plain.write_text("id,name,section,q01,q02,q03,q04,q05,q06,q07,q08,q09,q10,q11,q12\n"
                     "s1,Amy,A,B,C,B,B,C,A;B;D;E,C,C,B,ACF,C,A\n"
                     "s2,Bob,A,b,,X,,,\"A,C\",,,,a f,,\n", encoding="utf-8")
    assert grade(plain, "--key", key, "--out", tmp_path / "o") == 0
    rows = {r["id"]: r for r in read_csv(tmp_path / "o" / "scores.csv")}
    assert rows["s1"]["total"] == "10"
    assert rows["s2"]["total"] == "1.4667" and rows["s2"]["status"] == "check"  # q01 0.8 + q10 2/3; X flagged
    one = tmp_path / "me.yaml"
    one.write_text("id: me\nanswers:\n  q01: B\n  q06: [A, B]\n", encoding="utf-8")
    assert grade(one, "--key", key, "--out", tmp_path / "o2") == 0
    assert read_csv(tmp_path / "o2" / "scores.csv")[0]["total"] == "1.3"


def test_console_script_exit_code(tmp_path):
    exe = shutil.which("hw10", path=str(Path(sys.executable).parent))
    assert exe, "the hw10 console script must be installed"
    res = subprocess.run([exe, "grade", str(tmp_path / "missing.csv"), "--key", str(SAMPLE / "key.yaml"),
                          "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert res.returncode == 2 and "missing.csv: file not found" in res.stderr


def test_grader_runs_without_torch(tmp_path):
    """The grader must import and run on a machine without torch, with only its declared dependencies (pyyaml,
    jinja2): block the others' imports and grade."""
    code = ("import sys; sys.modules['torch'] = None; sys.modules['numpy'] = None; sys.modules['pydantic'] = None\n"
            "from hw10.cli import main\n"
            f"sys.exit(main(['grade', {str(SAMPLE / 'export.csv')!r}, '--key', {str(SAMPLE / 'key.yaml')!r}, "
            f"'--out', {str(tmp_path)!r}]))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "grades.csv").exists()


def test_a_closed_pipe_stops_quietly_and_stale_regrade_is_removed(tmp_path, key_file):
    """`hw10 grade … | head` must not end in a traceback; a regrade.csv from an earlier run is removed."""
    import os
    import subprocess
    import sys

    out = tmp_path / "o"
    assert grade(SAMPLE / "export.csv", "--key", key_file(), "--previous-key", key_file(), "--out", out) == 0
    assert (out / "regrade.csv").exists()  # an earlier run with --previous-key
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before hw10 writes a byte: every write meets a broken pipe
    try:
        proc = subprocess.run([sys.executable, "-m", "hw10.cli", "grade", str(SAMPLE / "export.csv"), "--key",
                               str(key_file()), "--out", str(out)], stdout=write_end, stderr=subprocess.PIPE,
                              text=True)
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr and proc.returncode == 141, proc.stderr
    assert (out / "scores.csv").exists() and not (out / "regrade.csv").exists()


def test_feedback_shows_unread_cells_and_regrade_policies(tmp_path, key_file):
    from grader.key import Policy

    key = key_file(policies={"q10": Policy(full_credit=True, note="the wording was ambiguous")})
    assert grade(SAMPLE / "export.csv", "--key", key, "--out", tmp_path / "o", "--allow-pending") == 0
    md = (tmp_path / "o" / "feedback" / "148585.md").read_text(encoding="utf-8")
    q03 = next(line for line in md.splitlines() if line.startswith("| q03 |"))
    assert "(blank)" not in q03 and "not read: unknown choice text" in q03  # never shown as a blank answer
    q10 = next(line for line in md.splitlines() if line.startswith("| q10 |"))
    assert "regrade: full credit to everyone; the wording was ambiguous" in q10
    html = (tmp_path / "o" / "feedback" / "148585.html").read_text(encoding="utf-8")
    assert "not read: unknown choice text" in html and "regrade: full credit to everyone" in html


def test_assignment_title_empty_is_refused_and_a_bare_title_is_pointed_out(tmp_path, key_file, capsys):
    key = key_file()
    assert grade(SAMPLE / "export.csv", "--key", key, "--out", tmp_path / "o", "--assignment", " ") == 2
    assert "--assignment is empty" in capsys.readouterr().err
    assert grade(SAMPLE / "export.csv", "--key", key, "--out", tmp_path / "o") == 0
    assert "has no assignment id, so NTU COOL will add a new assignment" in capsys.readouterr().out
    assert grade(SAMPLE / "export.csv", "--key", key, "--out", tmp_path / "o", "--assignment", "HW10 (4242)") == 0
    assert "has no assignment id" not in capsys.readouterr().out


def test_export_and_key_swapped_is_refused(tmp_path, key_file, capsys):
    assert grade(key_file(), "--key", SAMPLE / "export.csv", "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "export.csv: --key takes an answer key YAML" in err and "the export goes first" in err


def test_a_forced_format_that_does_not_fit_says_which_one_does(tmp_path, key_file, capsys):
    key = key_file()
    assert grade(SAMPLE / "export.csv", "--key", key, "--out", tmp_path / "o", "--format", "plain-csv") == 2
    assert "this is an NTU COOL Student Analysis export: use --format auto" in capsys.readouterr().err
    plain = tmp_path / "noid.csv"
    plain.write_text("student,q01,q02,q03,q04,q05,q06,q07,q08,q09,q10,q11,q12\n1,B,,,,,,,,,,,\n", encoding="utf-8")
    assert grade(plain, "--key", key, "--out", tmp_path / "o", "--format", "plain-csv") == 2
    assert "no 'id' column" in capsys.readouterr().err


def test_hw10_grade_loads_only_the_grader(tmp_path):
    """`hw10 grade` imports its own verb, never the model pipeline (checks) nor numpy/torch: a TA's laptop with
    only `pip install .` grades, and the command starts without loading what `hw10 key` needs."""
    code = ("import sys; from hw10.cli import main; "
            f"rc = main(['grade', {str(SAMPLE / 'export.csv')!r}, '--key', {str(SAMPLE / 'key.yaml')!r}, "
            f"'--out', {str(tmp_path / 'out')!r}]); "
            "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'checks', 'numpy', 'torch'}) + "
            "sorted(m for m in sys.modules if m.startswith('hw10.cli.') and m not in "
            "('hw10.cli.grade', 'hw10.cli.common')); "
            "print(rc, loaded)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[3])
    assert res.stdout.strip().splitlines()[-1] == "0 []", res.stdout + res.stderr


@pytest.mark.parametrize("title", ["HW10(123)", "HW10 (123) ", "HW10 (#123)", "HW10 （123）", "HW10\n(123)"])
def test_an_assignment_title_ntu_cool_would_read_as_a_new_column_is_refused(tmp_path, capsys, title):
    """NTU COOL's gradebook importer takes an assignment id only from "Title (id)" exactly; a near miss would add a
    new column on import, silently: refused before anything is read or written (exit 2, one line)."""
    out = tmp_path / "out"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(SAMPLE / "key.yaml"), "--out", str(out),
                 "--assignment", title]) == 2
    err = capsys.readouterr().err
    assert "--assignment" in err and ("Title (id)" in err or "line break" in err)
    assert err.count("\n") == 1 and not out.exists()


def test_questions_are_named_as_answer_files_name_them(capsys):
    """`hw10 questions q6` shows q06, as an answer file's `q6: [A, B]` is q06 (and 6, Q06, full-width ６ too)."""
    for name in ("q6", "Q06", "6", "６"):
        assert main(["questions", name]) == 0
        assert capsys.readouterr().out.startswith("q06 · ")
    assert main(["questions", "q13"]) == 2 and "no question 'q13'" in capsys.readouterr().err


def test_a_sample_key_says_so_at_the_top_of_the_report(tmp_path):
    out = tmp_path / "o"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(SAMPLE / "key.yaml"), "--out", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h1>SAMPLE — HW10 Speech Generation: class report</h1>" in html and "SAMPLE key:" in html


def test_unreadable_answers_come_with_a_match_file_ready_to_edit(tmp_path, capsys):
    """The sample class has one cell whose text the TA later edited in NTU COOL: it scores as not read, and hw10 grade
    writes match-suggestions.yaml (the text, the nearest choices) and says how --match closes it; filled in and given
    back, the cell is read and the suggestions are gone."""
    out = tmp_path / "o"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(SAMPLE / "key.yaml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "answers matching no choice: 1 cell(s) in q03" in printed and "--match COPY.yaml" in printed
    text = (out / "match-suggestions.yaml").read_text(encoding="utf-8")
    assert '"channels（已修改的選項）": \'\'' in text and 'nearest: C 0.46 "channels, 代表取出有 32 個聲道"' in text
    assert "match-suggestions.yaml" in (out / "report.html").read_text(encoding="utf-8")
    pins = tmp_path / "pins.yaml"
    pins.write_text(text, encoding="utf-8")
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(SAMPLE / "key.yaml"), "--out", str(tmp_path / "x"),
                 "--match", str(pins)]) == 2  # an empty letter: refused, naming what to do
    assert "no option letter for 'channels（已修改的選項）': write the letter it means" in capsys.readouterr().err
    pins.write_text(text.replace(": ''", ": C"), encoding="utf-8")
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(SAMPLE / "key.yaml"), "--out", str(out),
                 "--match", str(pins)]) == 0
    assert "answers matching no choice" not in capsys.readouterr().out
    assert not (out / "match-suggestions.yaml").exists()
