"""Hostile exports handed to `hw10 grade`: every one exits 0 or 2 with file, row and column, never a traceback, and
nothing from the file reaches the TA's terminal, spreadsheet or Markdown viewer as a command."""
from __future__ import annotations

import csv
import io

import pytest
from exportkit import Row, export_text, write_export

from hw10.cli import main

HEADER = "id,name,q01,q02,q03,q04,q05,q06,q07,q08,q09,q10,q11,q12"


@pytest.fixture
def key(key_file):
    return key_file()


def grade(export, key, out) -> int:
    return main(["grade", str(export), "--key", str(key), "--out", str(out)])


def err_of(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("attempt", ["inf", "1e400", "9" * 5000, "-1", "2.5", "NaN"])
def test_attempt_cells_that_are_not_attempt_numbers(tmp_path, bank, key, capsys, attempt):
    export = tmp_path / "e.csv"
    text = export_text(bank, [Row("1", attempt=1)]).replace("UTC,1,", f"UTC,{attempt},")
    export.write_text(text, encoding="utf-8")
    assert grade(export, key, tmp_path / "o") == 2
    err = err_of(capsys)
    assert "row 2, column 'attempt'" in err and "is not an attempt number" in err


def test_attempts_a_spreadsheet_wrote_as_floats_are_read(tmp_path, bank, key):
    export = tmp_path / "e.csv"
    export.write_text(export_text(bank, [Row("1", attempt=1)]).replace("UTC,1,", "UTC,1.0,"), encoding="utf-8")
    assert grade(export, key, tmp_path / "o") == 0


@pytest.mark.parametrize("extra", ["q13", "q00"])
def test_a_plain_csv_with_a_column_for_no_question(tmp_path, key, capsys, extra):
    plain = tmp_path / "plain.csv"
    plain.write_text(f"{HEADER},{extra}\n1,Amy,B,,,,,,,,,,,,A\n", encoding="utf-8")
    assert grade(plain, key, tmp_path / "o") == 2
    err = err_of(capsys)
    assert f"row 1, column '{extra}'" in err and "names no question of this quiz (q01 … q12)" in err


def test_a_very_long_id_gets_a_file_name_the_disk_accepts(tmp_path, bank, key):
    long_id = "x" * 300
    export = tmp_path / "e.csv"
    write_export(export, bank, [Row(long_id)])
    assert grade(export, key, tmp_path / "o") == 0
    (page,) = (tmp_path / "o" / "feedback").glob("*.html")
    assert len(page.name) < 80 and long_id in page.read_text(encoding="utf-8")


def test_a_western_encoded_file_is_refused_not_read_as_big5(tmp_path, key, capsys):
    """Windows-1252 bytes that also decode as cp950 (each accented letter followed by a letter), into rare Chinese
    characters ("Hélène" → "H幨鋝e"): once read as Big5 with exit 0, the names garbled."""
    plain = tmp_path / "plain.csv"
    rows = "".join(f"{i},{name},B,,,,,,,,,,,\n" for i, name in enumerate(
        ["Hélène Lefèvre", "Gaëlle Noël", "Rébecca Mégane", "Jérôme Thérèse"], start=1))
    plain.write_bytes((HEADER + "\n" + rows).encode("cp1252"))
    assert grade(plain, key, tmp_path / "o") == 2
    err = err_of(capsys)
    assert "another encoding (Windows-1252/Latin-1?)" in err and "re-export it as CSV UTF-8" in err


def test_a_big5_file_is_still_read(tmp_path, key):
    plain = tmp_path / "plain.csv"
    plain.write_bytes((HEADER + "\n1,王冠宇,B,,,,,,,,,,,\n2,林美玲,C,,,,,,,,,,,\n").encode("cp950"))
    assert grade(plain, key, tmp_path / "o") == 0


def test_a_double_bom_keeps_the_first_column(tmp_path, bank, key):
    export = tmp_path / "e.csv"
    export.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + export_text(bank, [Row("1", name="Amy")]).encode("utf-8"))
    assert grade(export, key, tmp_path / "o") == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o" / "scores.csv").read_bytes().decode("utf-8-sig"))))
    assert rows[0]["name"] == "Amy"


def test_a_nul_byte_anywhere_is_refused(tmp_path, bank, key, capsys):
    export = tmp_path / "e.csv"
    rows = [Row(str(i), name=f"student {i}") for i in range(200)]
    text = export_text(bank, rows)
    assert len(text) > 8192
    at = text.index("student 150")
    export.write_bytes(text[:at].encode() + b"stu\x00dent" + text[at + 7:].encode())
    assert grade(export, key, tmp_path / "o") == 2
    err = err_of(capsys)
    assert "NUL byte" in err and "row 152" in err


def test_a_cell_over_the_csv_limit_gets_a_true_message(tmp_path, bank, key, capsys):
    export = tmp_path / "e.csv"
    write_export(export, bank, [Row("1", raw={"q06": "x" * 200_000})])
    assert grade(export, key, tmp_path / "o") == 2
    err = err_of(capsys)
    assert "a cell longer than 131,072 characters" in err and "row 2" in err and "broken CSV quoting" not in err


def test_escape_sequences_never_reach_the_terminal(tmp_path, bank, key, capsys):
    export = tmp_path / "e.csv"
    evil = "1\x1b[2J\x1b]0;pwned\x07"
    write_export(export, bank, [Row(evil, name="A"), Row(evil, name="B", attempt=2)])
    assert grade(export, key, tmp_path / "o") == 2
    err = err_of(capsys)
    assert "\x1b" not in err and "\x07" not in err and "\\x1b[2J" in err


def test_carriage_returns_and_full_width_formulas_are_inert(tmp_path, bank, key):
    export = tmp_path / "e.csv"
    name = "Amy\r| q01 | A | A | 0.8 / 0.8 |"
    text = export_text(bank, [Row("1", name=name, section="＝HYPERLINK(x)")])
    export.write_text(text.replace(name, f'"{name}"'), encoding="utf-8")  # quoted, as Canvas writes a \r in a cell
    assert grade(export, key, tmp_path / "o") == 0
    md = next((tmp_path / "o" / "feedback").glob("*.md")).read_text(encoding="utf-8")
    assert "\r" not in md and "\\| q01" in md
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o" / "scores.csv").read_bytes().decode("utf-8-sig"))))
    assert rows[0]["section"].startswith("'＝")
