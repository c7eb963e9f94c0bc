"""Two different people are never merged under one id, and spreadsheet-mangled ids are refused (grader/identity.py),
through `hw10 grade` on real exports."""
from __future__ import annotations

import pytest
from exportkit import Row, write_export

from hw10.cli import main


@pytest.fixture
def key(key_file):
    return key_file()


def grade(export, key, out) -> int:
    return main(["grade", str(export), "--key", str(key), "--out", str(out)])


@pytest.mark.parametrize("second, column, shown", [
    (Row("148200", name="林小美", attempt=2), "name", "'王冠宇' vs '林小美'"),
    (Row("148200", name="王冠宇", section="S2", attempt=2), "section", "'S1' vs 'S2'"),
])
def test_one_id_two_people_is_refused_naming_both_rows(tmp_path, bank, key, capsys, second, column, shown):
    export = tmp_path / "e.csv"
    write_export(export, bank, [Row("148200", name="王冠宇", attempt=1, answers={"q01": ["B"]}), second,
                                Row("148201", name="someone else")])
    assert grade(export, key, tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert f"row 3, column '{column}'" in err and "rows 2 and 3 share the id '148200'" in err and shown in err
    assert "two different people" in err and not (tmp_path / "o").exists()


def test_attempts_of_one_person_are_still_one_student(tmp_path, bank, key):
    export = tmp_path / "e.csv"
    write_export(export, bank, [Row("148200", name="王冠宇", attempt=2), Row("148200", name="王冠宇 ", attempt=1)])
    assert grade(export, key, tmp_path / "o") == 0


@pytest.mark.parametrize("ids, bad, reason", [
    (["1.48E+05", "1.48E+05", "1.49E+05"], "1.48E+05", "scientific notation"),
    (["148200.0", "148201.0"], "148200.0", "decimal tail"),
    (["012345", "012346", "12347"], "12347", "dropped its leading zeros"),
])
def test_spreadsheet_mangled_ids_are_refused_with_the_reason(tmp_path, bank, key, capsys, ids, bad, reason):
    export = tmp_path / "e.csv"
    write_export(export, bank, [Row(i, name=f"student {n}") for n, i in enumerate(ids)])
    assert grade(export, key, tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert f"the id {bad!r} looks mangled" in err and reason in err and "column 'id'" in err


def test_plain_csv_ids_are_checked_too(tmp_path, key, capsys):
    plain = tmp_path / "plain.csv"
    plain.write_text("id,name,q01,q02,q03,q04,q05,q06,q07,q08,q09,q10,q11,q12\n"
                     "7,Amy,B,,,,,,,,,,,\n7,Bob,B,,,,,,,,,,,\n", encoding="utf-8")
    assert grade(plain, key, tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "plain.csv, row 3, column 'name'" in err and "'Amy' vs 'Bob'" in err
