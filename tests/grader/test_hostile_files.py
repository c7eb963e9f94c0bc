"""Hostile or broken YAML/JSON handed to `hw10 grade` (the key, --match pins, one student's answers) and to
`hw10 check`: each costs a clear exit 2 naming the file and line, never time, memory or a traceback
(grader/safeyaml.py, grader/readers/pins.py)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import SAMPLE, make_key

from grader.key import dump_key
from hw10.cli import main

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
"""The "billion laughs": ~400 bytes, 9^10 strings once expanded."""


def run_grade(tmp_path, export, key, *extra) -> int:
    return main(["grade", str(export), "--key", str(key), "--out", str(tmp_path / "o"), *map(str, extra)])


def err_of(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.fixture
def key_text(bank):
    return dump_key(make_key(bank))


def test_an_alias_bomb_in_the_key_is_refused_at_once(tmp_path, key_text, capsys):
    key = tmp_path / "key.yaml"
    key.write_text(key_text.replace("provenance:\n", "provenance:\n  bomb:\n" +
                                    "".join("    " + line + "\n" for line in BOMB.splitlines()), 1),
                   encoding="utf-8")
    assert run_grade(tmp_path, SAMPLE / "export.csv", key) == 2
    err = err_of(capsys)
    assert "key.yaml: malformed YAML: with its aliases expanded it holds more than 1,000,000 values" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name, text, fragment", [
    ("pins.yaml", BOMB, "with its aliases expanded it holds more than 1,000,000 values"),
    ("pins.yaml", "a: &a [*a]\n", "a value that contains itself"),
    ("pins.yaml", "questions: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 64 levels"),
    ("pins.yaml", "questions:\n  q05: 700005\n  q06: 700005\n", "q05 and q06 are both pinned to quiz question 700005"),
    ("pins.yaml", "questions: [q05]\n", "'questions' must be a mapping"),
    ("pins.yaml", "choices: [q05]\n", "'choices' must be a mapping"),
    ("pins.yaml", "questions: 5\n", "'questions' must be a mapping"),
    ("pins.yaml", "questions:\n  q05: 700005\n  q05: 700006\n", "duplicate key 'q05' (first on line 2)"),
])
def test_bad_match_files_exit_2(tmp_path, key_text, capsys, name, text, fragment):
    key = tmp_path / "key.yaml"
    key.write_text(key_text, encoding="utf-8")
    pins = tmp_path / name
    pins.write_text(text, encoding="utf-8")
    assert run_grade(tmp_path, SAMPLE / "export.csv", key, "--match", pins) == 2
    err = err_of(capsys)
    assert fragment in err and str(pins) in err


def test_a_key_nested_5000_deep_is_refused(tmp_path, key_text, capsys):
    key = tmp_path / "key.yaml"
    key.write_text(key_text.replace("provenance:\n", "provenance:\n  deep: " + "[" * 5000 + "]" * 5000 + "\n", 1),
                   encoding="utf-8")
    assert run_grade(tmp_path, SAMPLE / "export.csv", key) == 2
    assert "nested deeper than 64 levels" in err_of(capsys)


def test_duplicate_keys_in_a_key_are_refused_naming_both_lines(tmp_path, key_text, capsys):
    lines = key_text.splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if ln.startswith("  q01:"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("    "))
    twice = "".join(lines[:end] + lines[start:end] + lines[end:])
    key = tmp_path / "key.yaml"
    key.write_text(twice, encoding="utf-8")
    assert run_grade(tmp_path, SAMPLE / "export.csv", key) == 2
    err = err_of(capsys)
    assert f"row {end + 1}" in err and f"duplicate key 'q01' (first on line {start + 1})" in err
    correct = next(i for i in range(start, end) if lines[i].lstrip().startswith("correct:"))
    again = "".join(lines[:correct + 1] + [lines[correct]] + lines[correct + 1:])
    key.write_text(again, encoding="utf-8")
    assert run_grade(tmp_path, SAMPLE / "export.csv", key) == 2
    assert "duplicate key 'correct'" in err_of(capsys)


@pytest.mark.parametrize("name, text, fragment", [
    ("me.yaml", "q01: A\nq01: B\n", "q01"),
    ("me.yaml", "id: me\nanswers:\n  q01: A\n  q01: B\n", "duplicate key 'q01' (first on line 3)"),
    ("me.json", '{"q01": "A", "q01": "B"}', "duplicate key 'q01'"),
    ("me.json", '{"answers": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper than 64 levels"),
    ("me.yaml", BOMB, "with its aliases expanded it holds more than 1,000,000 values"),
])
def test_one_students_file_with_duplicates_or_bombs_exits_2(tmp_path, key_text, capsys, name, text, fragment):
    key = tmp_path / "key.yaml"
    key.write_text(key_text, encoding="utf-8")
    me = tmp_path / name
    me.write_text(text, encoding="utf-8")
    assert run_grade(tmp_path, me, key) == 2
    err = err_of(capsys)
    assert fragment in err and name in err


@pytest.mark.parametrize("text", ["q01: A\nwhen: 2001-13-45\n", "q01: A\nn: " + "9" * 5000 + "\n"])
def test_a_students_self_check_with_a_value_no_one_can_read_exits_2(tmp_path, key_text, capsys, text):
    """``hw10 check --answers me.yaml``: a date that does not exist or a 5,000-digit number is a clear error naming
    the file, not a traceback."""
    from hw10.cli import main

    key = tmp_path / "key.yaml"
    key.write_text(key_text, encoding="utf-8")
    me = tmp_path / "me.yaml"
    me.write_text(text, encoding="utf-8")
    assert main(["check", "--answers", str(me), "--key", str(key)]) == 2
    err = err_of(capsys)
    assert "me.yaml" in err and "a value cannot be read" in err


def test_a_key_with_a_few_harmless_aliases_is_still_read(tmp_path, key_text, capsys):
    """An older hw10 could write a shared value as an anchor and aliases: such a key still grades."""
    key = tmp_path / "key.yaml"
    key.write_text(key_text.replace("provenance:\n", "provenance:\n  shared: &s [1, 2]\n  again: *s\n", 1),
                   encoding="utf-8")
    assert run_grade(tmp_path, SAMPLE / "export.csv", key) == 0


def test_hw10_reads_back_every_key_it_writes_even_with_shared_values(tmp_path, bank):
    """hw10 never writes an alias: a value used twice is written twice (no reader has to expand anything)."""
    from grader.key import load_key

    key = make_key(bank)
    shared = ["B"]
    key.answers["q01"] = replace(key.answers["q01"], correct=shared)
    key.provenance["same"] = {"list": shared, "again": shared}
    path = tmp_path / "k.yaml"
    path.write_text(dump_key(key), encoding="utf-8")
    assert "&id" not in path.read_text(encoding="utf-8")
    assert load_key(path, bank).provenance["same"] == {"list": ["B"], "again": ["B"]}


def test_json_key_values_round_trip_without_duplicates(tmp_path):
    from grader.safeyaml import load_json

    assert load_json(json.dumps({"a": [1, {"b": 2}]}), "x.json") == {"a": [1, {"b": 2}]}
