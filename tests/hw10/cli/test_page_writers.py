"""`hw10 report --out DIR`, `hw10 key --report DIR` and `hw10 review --out SHEET` write their page folders as
`hw10 grade` writes its output: never over a file hw10 did not write, never deleting evidence, never through a
planted link, never over their own inputs. Each case was a data loss before (issue 26)."""
from __future__ import annotations

import os
import shutil

import pytest
from conftest import ROOT, make_key

from grader.key import write_key
from hw10.cli import main


def key_and_evidence(tmp_path, bank):
    """A key with q09 evidence and the evidence folder of its run (a plot and a clip)."""
    key = make_key(bank)
    key.answers["q09"].evidence = {"summary": "best order [2, 0, 3, 1]", "verdicts": {
        "B": {"verdict": "true", "why": "WER 0.05 <= 0.35", "margin": 0.3}}}
    path = tmp_path / "key.yaml"
    write_key(key, path)
    ev = tmp_path / "evidence"
    (ev / "q09").mkdir(parents=True)
    shutil.copyfile(ROOT / "fixtures" / "voices" / "q09_B.wav", ev / "q09" / "best_order.wav")
    (ev / "q09" / "plot.png").write_bytes(b"\x89PNG not drawn")
    return path, ev


def report(key, ev, out):
    return main(["report", "--key", str(key), "--evidence-dir", str(ev), "--out", str(out)])


def test_a_report_folder_hw10_did_not_fill_is_never_touched(bank, tmp_path, capsys):
    key, ev = key_and_evidence(tmp_path, bank)
    mine = tmp_path / "mine"
    (mine / "media").mkdir(parents=True)
    (mine / "media" / "holiday.wav").write_bytes(b"RIFF")
    (mine / "index.html").write_text("<p>my page</p>", encoding="utf-8")
    assert report(key, ev, mine) == 2
    assert "did not write" in capsys.readouterr().err
    assert (mine / "media" / "holiday.wav").read_bytes() == b"RIFF"
    assert (mine / "index.html").read_text(encoding="utf-8") == "<p>my page</p>"
    # a folder hw10 wrote is replaced as a whole, and an edit made since is refused
    out = tmp_path / "r"
    assert report(key, ev, out) == 0 and report(key, ev, out) == 0
    assert (out / "media" / "q09" / "best_order.wav").exists() and (out / ".hw10-manifest.json").exists()
    (out / "index.html").write_text("<p>edited</p>", encoding="utf-8")
    assert report(key, ev, out) == 2 and (out / "index.html").read_text(encoding="utf-8") == "<p>edited</p>"


def test_a_report_never_deletes_evidence_nor_overwrites_its_key(bank, tmp_path, capsys):
    key, ev = key_and_evidence(tmp_path, bank)
    for out in (ev, ev / "report", ev / "q09"):  # the report inside the evidence folder, or the evidence inside it
        assert report(key, ev, out) == 2
        assert "must not lie inside each other" in capsys.readouterr().err
    assert sorted(p.name for p in (ev / "q09").iterdir()) == ["best_order.wav", "plot.png"]
    inside = tmp_path / "r"
    inside.mkdir()
    key_in = inside / "index.html"
    shutil.copyfile(key, key_in)
    assert report(key_in, ev, inside) == 2
    assert "lies inside the output folder" in capsys.readouterr().err and key_in.read_bytes() == key.read_bytes()


def test_planted_links_are_never_followed(bank, tmp_path, capsys):
    """A link in the evidence folder is not published (it would copy whatever it points to into the page), and a
    link where the report's folder should be is refused, not written through."""
    key, ev = key_and_evidence(tmp_path, bank)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF private")
    (ev / "q09" / "leak.wav").symlink_to(secret)
    out = tmp_path / "r"
    assert report(key, ev, out) == 0
    assert not (out / "media" / "q09" / "leak.wav").exists()
    assert "leak.wav" not in (out / "index.html").read_text(encoding="utf-8")
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("keep", encoding="utf-8")
    link = tmp_path / "linked"
    link.symlink_to(target)
    assert report(key, ev, link) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"] and link.is_symlink()


def test_key_report_is_refused_before_any_model_loads_when_it_would_nest(tmp_path, capsys):
    ev = tmp_path / "ev"
    args = ["key", "--questions", "1", "--mimi", "architecture", "--device", "cpu", "--no-cache",
            "--out", str(tmp_path / "key.yaml"), "--evidence-dir", str(ev)]
    assert main([*args, "--report", str(ev / "report")]) == 2
    stdout, err = capsys.readouterr()
    assert stdout == "" and "must not lie inside each other" in err
    assert main([*args[:-4], "--out", str(tmp_path / "r" / "key.yaml"), "--report", str(tmp_path / "r")]) == 2
    assert "would lie inside the report folder" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_review_sheet_never_replaces_a_foreign_folder_or_a_filled_decisions_file(bank, tmp_path, capsys):
    from review_kit import review_key

    key_path, evidence = review_key(bank, tmp_path)
    sheet = tmp_path / "sheet"
    args = ["review", str(key_path), "--evidence-dir", str(evidence)]
    assert main([*args, "--out", str(sheet)]) == 0 and main([*args, "--out", str(sheet)]) == 0
    decisions = sheet / "decisions.yaml"
    filled = decisions.read_text(encoding="utf-8").replace("reviewer: ''", "reviewer: TA Lin")
    decisions.write_text(filled, encoding="utf-8")
    assert main([*args, "--out", str(sheet)]) == 2
    assert "differ from a fresh sheet" in capsys.readouterr().err and decisions.read_text(encoding="utf-8") == filled
    # the sheet inside the evidence folder would have emptied its media before
    assert main([*args, "--out", str(evidence / "sheet")]) == 2
    assert "must not lie inside each other" in capsys.readouterr().err
    # a decisions.yaml planted as a link to a TA's file is never written through nor read as theirs
    mine = tmp_path / "my-notes.yaml"
    mine.write_text("my notes\n", encoding="utf-8")
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "decisions.yaml").symlink_to(mine)
    assert main([*args, "--out", str(planted)]) == 2
    assert mine.read_text(encoding="utf-8") == "my notes\n" and (planted / "decisions.yaml").is_symlink()
