"""A 13th question is its YAML (+ check module + fixture): nothing in the grader, the sample class, the pages or the
command line counts twelve. The bank here is a copy of the real one with q13 added (a copy of q03's spec under a
new id with its own texts, and q03's and q13's points halved so that the course total stays 10)."""
from __future__ import annotations

import shutil

import yaml
from conftest import ROOT

from grader.key import dump_key
from grader.spec import load_bank
from grader.synthetic import build_class
from hw10.cli import main


def thirteen(tmp_path):
    qdir = tmp_path / "questions"
    shutil.copytree(ROOT / "questions", qdir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    q03 = yaml.safe_load((qdir / "q03.yaml").read_text(encoding="utf-8"))
    q03["points"] = "0.4"
    (qdir / "q03.yaml").write_text(yaml.safe_dump(q03, allow_unicode=True, sort_keys=False), encoding="utf-8")
    q13 = dict(q03, id="q13", title="A thirteenth question", stem="選擇題: 延伸題庫的第十三題，哪一個選項是第一個？",
               options=[dict(o, text=f"第十三題的選項 {o['id']}：{o['id'] * 3}") for o in q03["options"]])
    (qdir / "q13.yaml").write_text(yaml.safe_dump(q13, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return qdir


def test_a_thirteenth_question_is_graded_listed_and_reported(tmp_path, capsys):
    qdir = thirteen(tmp_path)
    bank = load_bank(qdir)
    assert bank.ids[-1] == "q13" and len(bank.ids) == 13 and float(bank.total_points) == 10
    export, key = build_class(bank, n_students=40)
    (tmp_path / "export.csv").write_bytes(export)
    (tmp_path / "key.yaml").write_text(dump_key(key), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["--questions-dir", str(qdir), "grade", str(tmp_path / "export.csv"), "--key",
                 str(tmp_path / "key.yaml"), "--out", str(out)]) == 0
    header = (out / "scores.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[header.index("q12") + 1] == "q13"
    assert "q13" in (out / "report.html").read_text(encoding="utf-8")
    assert "q13" in (out / "items.csv").read_text(encoding="utf-8-sig")
    capsys.readouterr()
    assert main(["--questions-dir", str(qdir), "questions", "q13"]) == 0
    assert "A thirteenth question" in capsys.readouterr().out
