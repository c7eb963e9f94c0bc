"""`hw10 grade --out OUT` never touches a file hw10 did not write and never writes through a link
(grader/outfolder/): what is refused, and that a refusal changes nothing. Every case runs the real command on real
files and checks the bytes of what must not change. The helpers and fixtures here serve test_output_folder_rerun.py
and test_output_folder_writing.py too."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import SAMPLE

from grader import outfolder
from grader.outfolder import MANIFEST, read_manifest
from hw10.cli import main

EXPORT, KEY = SAMPLE / "export.csv", SAMPLE / "key.yaml"


def grade(export, out, *extra, key=KEY) -> int:
    return main(["grade", str(export), "--key", str(key), "--out", str(out), *map(str, extra)])


def digest(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (links as their target text, never followed) → its content hash."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = "link → " + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def refused(capsys, *fragments):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for f in fragments:
        assert f in err, err
    return err


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory):
    out = tmp_path_factory.mktemp("graded") / "out"
    assert grade(EXPORT, out) == 0
    return out


@pytest.fixture
def graded(tmp_path, graded_once):
    """The sample class graded into ``tmp_path/out`` (a copy of one run: every file and the manifest as hw10 wrote
    them; grading it again for each test cost 0.6 s a test)."""
    out = tmp_path / "out"
    shutil.copytree(graded_once, out)
    return out


@pytest.mark.parametrize("name", ["scores.csv", "grades.csv", "items.csv", "report.html", "feedback/x.csv"])
def test_an_export_inside_the_output_folder_is_refused_and_kept(tmp_path, capsys, name):
    out = tmp_path / "out"
    export = out / name
    export.parent.mkdir(parents=True)
    export.write_bytes(EXPORT.read_bytes())
    before = digest(out)
    assert grade(export, out) == 2
    refused(capsys, f"the input {export} lies inside the output folder")
    assert digest(out) == before


def test_an_export_named_like_an_output_is_kept_when_grades_are_withheld(tmp_path, bank, capsys):
    """The export saved as OUT/grades.csv and a key with a pending question: grades.csv is withheld, and the old
    grader deleted the file of that name, the TA's export."""
    from conftest import make_key

    from grader.key import dump_key

    out = tmp_path / "out"
    out.mkdir()
    export = out / "grades.csv"
    export.write_bytes(EXPORT.read_bytes())
    key = tmp_path / "pending.yaml"
    key.write_text(dump_key(make_key(bank, pending=("q05",))), encoding="utf-8")
    before = digest(out)
    assert grade(export, out, key=key) == 2
    refused(capsys, "lies inside the output folder")
    assert digest(out) == before


def test_files_hw10_did_not_write_are_never_deleted_or_overwritten(graded, capsys):
    (graded / "feedback" / "my notes.md").write_text("TA notes\n", encoding="utf-8")
    (graded / "extra").mkdir()
    before = digest(graded)
    assert grade(EXPORT, graded) == 2
    refused(capsys, "files hw10 did not write: extra, feedback/my notes.md", "choose another --out")
    assert digest(graded) == before


def test_a_folder_where_an_output_file_belongs_is_refused(graded, capsys):
    """Once a traceback after half the outputs were written: OUT/scores.csv a folder."""
    (graded / "scores.csv").unlink()
    (graded / "scores.csv").mkdir()
    (graded / "scores.csv" / "mine.txt").write_text("x", encoding="utf-8")
    before = digest(graded)
    assert grade(EXPORT, graded) == 2
    refused(capsys, "files hw10 did not write: scores.csv")
    assert digest(graded) == before


def test_a_folder_of_someone_elses_files_is_refused(tmp_path, capsys):
    out = tmp_path / "Desktop"
    out.mkdir()
    (out / "scores.csv").write_text("mine\n", encoding="utf-8")
    assert grade(EXPORT, out) == 2
    refused(capsys, "holds files hw10 did not write (scores.csv")
    assert (out / "scores.csv").read_text(encoding="utf-8") == "mine\n"


def test_a_file_the_ta_edited_since_is_not_overwritten(graded, capsys):
    grades = graded / "grades.csv"
    grades.write_bytes(grades.read_bytes() + b"hand-corrected row\r\n")
    before = digest(graded)
    assert grade(EXPORT, graded) == 2
    refused(capsys, "files changed since hw10 wrote them: grades.csv")
    assert digest(graded) == before


@pytest.mark.parametrize("workers", [1, 2])
def test_an_edit_that_keeps_the_size_is_caught_before_anything_is_replaced(tmp_path, bank, workers):
    """Content is compared with the manifest by a process of its own while the export is read and graded, not
    before the work starts: an edit of the same size is still refused, nothing replaced, and the run's new folder
    is gone (whether one or two processes write the pages)."""
    from grader.errors import InputError
    from hw10.grade import GradeOptions, run_grade

    out = tmp_path / "out"
    run_grade(GradeOptions(export=EXPORT, key=KEY, out=out, workers=workers), bank)
    page = sorted((out / "feedback").glob("*.md"))[-1]
    text = page.read_bytes()
    page.write_bytes(text.replace(b"Total", b"TOTAL", 1))
    assert page.read_bytes() != text and len(page.read_bytes()) == len(text)
    before = digest(out)
    with pytest.raises(InputError, match=f"files changed since hw10 wrote them: feedback/{page.name}"):
        run_grade(GradeOptions(export=EXPORT, key=KEY, out=out, workers=workers), bank)
    assert digest(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_links_are_never_followed(tmp_path, graded, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.csv").write_text("keep me\n", encoding="utf-8")
    target_before = digest(elsewhere)
    # a file of the output replaced by a link to another file
    (graded / "scores.csv").unlink()
    (graded / "scores.csv").symlink_to(elsewhere / "precious.csv")
    assert grade(EXPORT, graded) == 2
    refused(capsys, "symbolic links (never followed): scores.csv")
    # the feedback folder replaced by a link to another folder
    out2 = tmp_path / "out2"
    assert grade(EXPORT, out2) == 0
    os.rename(out2 / "feedback", tmp_path / "fb-moved")
    (out2 / "feedback").symlink_to(elsewhere)
    assert grade(EXPORT, out2) == 2
    refused(capsys, "symbolic links (never followed): feedback")
    # the output folder itself a link
    link = tmp_path / "link-out"
    link.symlink_to(elsewhere)
    assert grade(EXPORT, link) == 2
    refused(capsys, "is a symbolic link")
    assert digest(elsewhere) == target_before


def test_the_output_path_is_a_file(tmp_path, capsys):
    out = tmp_path / "scores.csv"
    out.write_text("x\n", encoding="utf-8")
    assert grade(EXPORT, out) == 2
    refused(capsys, "exists and is not a folder")
    assert out.read_text(encoding="utf-8") == "x\n"


def test_a_read_only_parent_is_a_clear_error(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        assert grade(EXPORT, parent / "out") == 2
        refused(capsys, "cannot create the output folder")
    finally:
        parent.chmod(0o755)


def test_a_folder_written_into_during_the_run_is_not_replaced(graded, capsys, monkeypatch):
    """Someone saves a file into OUT while hw10 grades (simulated from inside the run): nothing is replaced, the
    file and the previous output stay, exit 2."""
    from reports.render import FeedbackRenderer

    real = FeedbackRenderer.render

    def render_and_meddle(self, r):
        (graded / "notes.txt").write_text("typed during the run\n", encoding="utf-8")
        return real(self, r)

    before = digest(graded)
    monkeypatch.setattr(FeedbackRenderer, "render", render_and_meddle)
    assert grade(EXPORT, graded) == 2
    refused(capsys, "changed while hw10 was writing; nothing was replaced")
    after = digest(graded)
    assert after.pop("notes.txt") and after == before


def test_the_folder_is_refused_first_although_checked_while_the_export_is_read(graded, tmp_path, capsys):
    """The earlier output is checked in another process while the export is read; when both are wrong, the message
    is still the folder's, as when the folder was checked before anything else (and the export is named only after
    the folder is fixed)."""
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"name,id,section\nA,1\n")
    page = sorted((graded / "feedback").glob("*.md"))[0]
    page.write_bytes(page.read_bytes().replace(b"Total", b"TOTAL", 1))  # same size: only its content tells
    (graded / "mine.txt").write_text("TA notes\n", encoding="utf-8")
    before = digest(graded)
    assert grade(broken, graded) == 2
    err = refused(capsys, "files hw10 did not write: mine.txt")
    assert "broken.csv" not in err
    assert digest(graded) == before
    (graded / "mine.txt").unlink()
    assert grade(broken, graded) == 2
    refused(capsys, f"files changed since hw10 wrote them: feedback/{page.name}")
    page.write_bytes(page.read_bytes().replace(b"TOTAL", b"Total", 1))
    assert grade(broken, graded) == 2
    refused(capsys, "broken.csv, row 1: not a recognised submissions")
    assert [p.name for p in tmp_path.iterdir() if ".hw10-" in p.name] == []


def test_a_refused_folder_stops_the_run_before_any_page_is_rendered(graded, capsys, monkeypatch):
    """The check of the earlier output runs beside the reading; a refusal it has found by the time grading ends
    (here: a file hw10 did not write, found at once) stops the run there, not after every page is written."""
    from grader.readers import formats as readers
    from reports.render import FeedbackRenderer

    (graded / "mine.txt").write_text("TA notes\n", encoding="utf-8")
    real_read = readers.read_submissions

    def slow_read(*args, **kwargs):
        time.sleep(1.0)  # the checking process surely ends first
        return real_read(*args, **kwargs)

    rendered = []
    monkeypatch.setattr("hw10.grade.read_submissions", slow_read)
    monkeypatch.setattr(FeedbackRenderer, "render", lambda self, r: rendered.append(r) or (b"", b""))
    assert grade(EXPORT, graded) == 2
    refused(capsys, "files hw10 did not write: mine.txt")
    assert rendered == []


def test_a_manifest_hw10_wrote_is_read_whole_and_as_one_by_one(graded):
    """The manifest's entries are checked column by column (the fast way, 200,000 of them on a rerun), and that
    check takes what hw10 writes: every entry, as the manifest lists it."""
    files = json.loads((graded / MANIFEST).read_text(encoding="utf-8"))["files"]
    whole = outfolder._entries_whole(files)
    assert whole is not None and len(whole) > 300
    assert whole == [outfolder.Entry(e["path"], e["size"], e["sha256"]) for e in files] == read_manifest(graded)


ZEROS = "0" * 64


@pytest.mark.parametrize("entry", [
    '"not a list"',
    '[{"path": "../scores.csv", "size": 1, "sha256": "%s"}]' % ZEROS,
    '[{"path": ".hw10-manifest.json", "size": 1, "sha256": "%s"}]' % ZEROS,
    '[{"path": "a\\u0000b", "size": 1, "sha256": "%s"}]' % ZEROS,
    '[{"path": "\\ud800.md", "size": 1, "sha256": "%s"}]' % ZEROS,
    '[{"path": "\\udcc3\\udca9.md", "size": 1, "sha256": "%s"}]' % ZEROS,
    '[{"path": "scores.csv", "size": -1, "sha256": "%s"}]' % ZEROS,
    '[{"path": "scores.csv", "size": 1, "sha256": "zz"}]',
    '[{"path": "scores.csv", "size": 1, "sha256": "%s"}]' % ("A" * 64),
    '[{"path": "scores.csv", "size": 1}]',
    '[{"path": "scores.csv", "size": true, "sha256": "%s"}]' % ZEROS,
    '[["scores.csv", 1, "%s"]]' % ZEROS,
    '[{"path": "", "size": 1, "sha256": "%s"}]' % ZEROS,
    '[{"path": "feedback//x.md", "size": 1, "sha256": "%s"}]' % ZEROS,
    '[{"path": "feedback/./x.md", "size": 1, "sha256": "%s"}]' % ZEROS,
    '[{"path": "feedback/..", "size": 1, "sha256": "%s"}]' % ZEROS,
    '[{"path": "scores.csv", "size": 1, "sha256": "%s"}, {"path": "scores.csv", "size": 1, "sha256": "%s"}]'
    % (ZEROS, ZEROS),
    '[{"path": "scores.csv", "size": 1%s, "sha256": "%s"}]' % ("0" * 5000, ZEROS),
])
def test_a_manifest_hw10_did_not_write_is_refused(graded, capsys, entry):
    """A manifest whose entries are not files hw10 writes (a path out of the folder, the manifest itself, a NUL, a
    lone surrogate no file name can hold, surrogates that would read back as another name, a negative size, a
    SHA-256 that is not 64 lowercase hex digits, one missing, a size that is not a whole number, an entry that is
    not a mapping, an empty, ``.`` or ``..`` part, a path listed twice, a 5,000-digit size): the folder is refused
    as not hw10's, exit 2 naming it, and nothing in it changes (the entries are checked all at once, and one by one
    only to name the first that is wrong: both ways are run by these cases)."""
    size = (graded / "scores.csv").stat().st_size  # right: only what makes the entry not hw10's is wrong
    files = entry.replace('"size": 1,', f'"size": {size},')
    (graded / MANIFEST).write_text('{"format": "hw10-output/1", "files": %s}' % files, encoding="utf-8")
    before = digest(graded)
    assert grade(EXPORT, graded) == 2
    why = ("is not an hw10 output manifest" if entry.startswith('"') else "cannot be read" if "0" * 5000 in entry
           else "entries 1 and 2 are both 'scores.csv'" if entry.count("scores.csv") == 2
           else "entry 1 is not a file hw10 writes")
    refused(capsys, str(graded), why, "choose another --out")
    assert digest(graded) == before
