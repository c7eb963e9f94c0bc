"""Both YAML loaders hw10 has (grader/safeyaml.py) keep the same rules: libyaml's, used wherever PyYAML has it, and
the pure-Python one it falls back to. Every hostile case is refused by both with the same message and line, and
every file hw10 ships or writes reads back the same through both."""
from __future__ import annotations

import pytest
import yaml

from grader.errors import InputError
from grader.key import dump_key
from grader.safeyaml import FAST_LOADER, StrictLoader, load_yaml
from questions import bank_dir

LOADERS = [pytest.param(StrictLoader, id="python")] + (
    [pytest.param(FAST_LOADER, id="libyaml")] if yaml.__with_libyaml__ else [])
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))


def test_libyaml_is_the_one_used_where_pyyaml_has_it():
    assert (FAST_LOADER is not StrictLoader) == yaml.__with_libyaml__


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text, message, row", [
    (BOMB, "with its aliases expanded it holds more than 1,000,000 values", None),
    ("a: &a [*a]\n", "a value that contains itself", 1),
    ("q: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 64 levels", 1),
    ("q:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(70)) + " " * 71 + "b: 1\n", "nested deeper than 64", None),
    ("id: me\nanswers:\n  q01: A\n  q01: B\n", "duplicate key 'q01' (first on line 3)", 4),
    ("q01: [A\n", "", None),
    ("when: 2001-13-45\n", "a value cannot be read", None),
    ("n: " + "9" * 5000 + "\n", "a value cannot be read", None),
])
def test_hostile_yaml_is_refused_alike(loader, text, message, row):
    with pytest.raises(InputError, match="malformed YAML") as exc:
        load_yaml(text, "x.yaml", loader=loader)
    assert message in exc.value.message and exc.value.file == "x.yaml"
    if row is not None:
        assert exc.value.row == row


@pytest.mark.parametrize("loader", LOADERS)
def test_what_hw10_ships_and_writes_reads_back_alike(loader, bank):
    from conftest import make_key

    for path in sorted(bank_dir().glob("q*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert load_yaml(text, str(path), loader=loader) == load_yaml(text, str(path), loader=StrictLoader)
    key = dump_key(make_key(bank, pending=("q05",)))
    assert load_yaml(key, "key.yaml", loader=loader) == load_yaml(key, "key.yaml", loader=StrictLoader)
    assert load_yaml("a: &x [1]\nb: *x\n", "k.yaml", loader=loader) == {"a": [1], "b": [1]}


def test_json_with_a_number_no_one_writes_is_refused():
    from grader.safeyaml import load_json

    with pytest.raises(InputError, match="malformed JSON: a value cannot be read"):
        load_json('{"q01": ' + "9" * 5000 + "}", "me.json")
