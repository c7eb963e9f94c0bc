"""The question bank and answer keys: schema, verbatim texts, hashes, refusal of wrong keys."""
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, make_key

from grader.errors import InputError
from grader.key import Policy, dump_key, load_key, write_key
from grader.spec import load_bank

SEED = ROOT.parent / "shared" / "seeds" / "000_93465792bdf08219.txt"


def test_bank_shape(bank):
    assert bank.ids == [f"q{i:02d}" for i in range(1, 13)]
    assert [s.id for s in bank if s.kind == "multi"] == ["q06", "q10"]
    assert bank.total_points == 10
    assert {str(s.points_exact) for s in bank if s.kind == "single"} == {"4/5"}
    assert all(s.points_exact == 1 for s in bank if s.kind == "multi")
    assert len(bank["q06"].options) == 8 and len(bank["q10"].options) == 7
    assert all(o.claim is not None for s in bank if s.kind == "multi" for o in s.options)


@pytest.mark.skipif(not SEED.exists(), reason="the homework seed lives in ../shared (present in CI and dev checkouts)")
def test_texts_are_verbatim_from_the_homework(bank):
    seed = SEED.read_text(encoding="utf-8")
    appendix = seed[seed.index("(1)\n"):]
    blocks = re.split(r"\n\((\d+)\)\n", "\n" + appendix)
    for i in range(1, len(blocks), 2):
        spec = bank[f"q{int(blocks[i]):02d}"]
        lines = blocks[i + 1].split("\n")
        stem = [ln for ln in lines if ln.strip() and not ln.startswith(("-", "#"))][0]
        options = [ln[2:] for ln in lines if ln.startswith("- ")]
        assert spec.stem == stem
        assert [o.text for o in spec.options] == options


def copy_bank(tmp_path) -> Path:
    dst = tmp_path / "questions"
    shutil.copytree(ROOT / "questions", dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return dst


def edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_broken_spec_names_file_and_field(tmp_path):
    folder = copy_bank(tmp_path)
    edit(folder / "q07.yaml", lambda d: d["options"][1].pop("text_en"))
    with pytest.raises(InputError) as exc:
        load_bank(folder)
    assert exc.value.file.endswith("q07.yaml")
    assert exc.value.column == "options[1] (option B).text_en"


def test_spec_with_unknown_field_or_bad_kind(tmp_path):
    folder = copy_bank(tmp_path)
    edit(folder / "q02.yaml", lambda d: d.update(kind="essay"))
    with pytest.raises(InputError) as exc:
        load_bank(folder)
    assert exc.value.column == "kind" and "q02.yaml" in str(exc.value)


def test_points_must_total_ten(tmp_path):
    folder = copy_bank(tmp_path)
    edit(folder / "q01.yaml", lambda d: d.update(points="1.0"))
    with pytest.raises(InputError, match="add up to 10.2"):
        load_bank(folder)


def test_multi_option_needs_a_claim(tmp_path):
    folder = copy_bank(tmp_path)
    edit(folder / "q10.yaml", lambda d: d["options"][3].pop("claim"))
    with pytest.raises(InputError, match="options D need a 'claim'"):
        load_bank(folder)


def test_key_roundtrip(tmp_path, bank):
    key = make_key(bank, pending=("q05",), policies={"q02": Policy(also_accept=["D"], note="typo in option C")})
    path = tmp_path / "k.yaml"
    write_key(key, path)
    again = load_key(path, bank)
    assert again == key
    assert dump_key(again) == path.read_text(encoding="utf-8")


def test_key_for_another_bank_is_refused(tmp_path, bank, key_file):
    path = key_file()
    folder = copy_bank(tmp_path)
    edit(folder / "q03.yaml", lambda d: d["options"][0].update(text="frames, 時間維度"))
    other = load_bank(folder)
    with pytest.raises(InputError, match="different question bank") as exc:
        load_key(path, other)
    assert exc.value.column == "questions_sha256"


def test_translation_and_threshold_edits_keep_keys_valid(tmp_path, key_file):
    path = key_file()
    folder = copy_bank(tmp_path)
    edit(folder / "q03.yaml", lambda d: d["options"][0].update(text_en="frames (time axis)"))
    edit(folder / "q06.yaml", lambda d: d["thresholds"].update(subset_separated_min=0.3))
    load_key(path, load_bank(folder))


def test_malformed_yaml_key_names_line(tmp_path, bank):
    path = tmp_path / "bad.yaml"
    path.write_text("format: hw10-key/1\nanswers:\n  q01: [B\n  q02: C\n", encoding="utf-8")
    with pytest.raises(InputError, match="malformed YAML") as exc:
        load_key(path, bank)
    assert exc.value.row is not None and str(path) in str(exc.value)


@pytest.mark.parametrize("mutate, field, message", [
    (lambda d: d["answers"]["q01"].update(correct=["B", "C"]), "answers.q01.correct", "exactly one"),
    (lambda d: d["answers"]["q02"].update(correct=["Z"]), "answers.q02.correct", "no option Z"),
    (lambda d: d["answers"]["q05"].update(status="pending"), "answers.q05.correct", "must not list"),
    (lambda d: d["answers"]["q06"].update(status="guessed"), "answers.q06.status", "must be one of"),
    (lambda d: d["answers"].pop("q12"), "answers", "no answer for q12"),
    (lambda d: d.update(format="other/1"), "format", "not an hw10 answer key"),
    (lambda d: d["answers"]["q10"].update(correct=[]), "answers.q10.correct", "at least one"),
])
def test_invalid_keys_are_refused_with_the_field(tmp_path, bank, key_file, mutate, field, message):
    path = key_file()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=message) as exc:
        load_key(path, bank)
    assert exc.value.column == field


def test_yaml_key_is_read_with_the_safe_loader(tmp_path, bank):
    path = tmp_path / "evil.yaml"
    path.write_text("format: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(InputError, match="malformed YAML"):
        load_key(path, bank)


def test_sample_key_is_labelled_a_sample(bank):
    key = load_key(ROOT / "fixtures" / "sample_class" / "key.yaml", bank)
    assert key.provenance["kind"] == "sample"
    assert "NOT the homework" in key.provenance["description"]
    assert {a.status for a in key.answers.values()} == {"asserted"}
