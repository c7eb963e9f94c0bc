"""`hw10 grade --out OUT` never touches a file hw10 did not write, never writes through a link, and replaces its
own earlier output all at once (grader/outfolder.py). Every case runs the real command on real files and checks
the bytes of what must not change."""
from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import SAMPLE
from exportkit import Row, write_export

from grader import outfolder
from grader.cli import main
from grader.outfolder import MANIFEST, read_manifest

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
    from grader.grade import GradeOptions, run_grade

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


def test_rerun_replaces_its_own_output_and_removes_what_no_longer_applies(tmp_path, bank, graded, capsys):
    """Rerunning into the same folder is the normal case: byte-identical output, and a grades.csv of an earlier run
    disappears when this run withholds grades (it would hold totals of another key)."""
    first = digest(graded)
    assert grade(EXPORT, graded) == 0
    assert digest(graded) == first and MANIFEST in first
    from conftest import make_key

    from grader.key import dump_key

    pending = tmp_path / "pending.yaml"
    pending.write_text(dump_key(make_key(bank, pending=("q05",))), encoding="utf-8")
    assert grade(EXPORT, graded, key=pending) == 0
    assert not (graded / "grades.csv").exists() and (graded / "scores.csv").exists()
    assert [p.name for p in tmp_path.iterdir() if ".hw10-" in p.name] == []  # no working folders left


def test_a_failed_run_leaves_the_previous_output_whole(tmp_path, graded, capsys, monkeypatch):
    """A disk that fills up halfway (simulated: the 100th file cannot be written; a real full disk cannot be made
    here): exit 2, the previous complete output exactly as it was, nothing half-written left anywhere."""

    before = digest(graded)
    real = outfolder.OutputFolder.write_bytes
    count = {"n": 0}

    def failing(self, rel, data):
        count["n"] += 1
        if count["n"] == 100:
            raise outfolder.InputError(f"cannot write {rel} (No space left on device); nothing was replaced",
                                       file=str(self.target))
        return real(self, rel, data)

    monkeypatch.setattr(outfolder.OutputFolder, "write_bytes", failing)
    assert grade(EXPORT, graded, "--decimals", "2") == 2
    refused(capsys, "No space left on device", "nothing was replaced")
    assert digest(graded) == before
    assert [p.name for p in tmp_path.iterdir() if ".hw10-" in p.name] == []


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


def test_feedback_file_names_are_unique_stable_and_listed(tmp_path, bank, capsys):
    ids = ["a/b", "a_b", "a_b-2", "ABC", "abc", "CON", "B09901001"]
    export = tmp_path / "e.csv"
    write_export(export, bank, [Row(i, name=f"name of {i}") for i in ids])
    out = tmp_path / "out"
    assert grade(export, out) == 0
    rows = list(csv.DictReader(io.StringIO((out / "scores.csv").read_bytes().decode("utf-8-sig"))))
    files = {r["id"]: r["feedback"] for r in rows}
    assert sorted(files) == sorted(ids)
    assert len({f.casefold() for f in files.values()}) == len(ids)  # unique where case does not count
    assert files["a_b"] == "feedback/a_b.html" and files["B09901001"] == "feedback/B09901001.html"
    assert files["a/b"] != "feedback/a_b-2.html" and "~" in files["a/b"] and "~" in files["CON"]
    for i, f in files.items():
        page = (out / f).read_text(encoding="utf-8")
        assert f"name of {i}" in page and f"ID {i}" in page  # each page says whose it is
    # stable: the same ids in another order get the same files
    write_export(export, bank, [Row(i, name=f"name of {i}") for i in reversed(ids)])
    out2 = tmp_path / "out2"
    assert grade(export, out2) == 0
    rows2 = list(csv.DictReader(io.StringIO((out2 / "scores.csv").read_bytes().decode("utf-8-sig"))))
    assert {r["id"]: r["feedback"] for r in rows2} == files


def test_a_swap_that_fails_halfway_puts_the_previous_output_back(tmp_path, graded, capsys, monkeypatch):
    """The old output is moved aside, then the new one cannot take its place (simulated: os.rename refuses; a
    real cross-device or permission failure cannot be made here): the old output is moved back, exit 2."""

    before = digest(graded)
    real = os.rename

    def refusing(src, dst):
        if ".hw10-new-" in str(src):
            raise PermissionError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", refusing)
    assert grade(EXPORT, graded, "--decimals", "2") == 2
    refused(capsys, "cannot replace the output folder (Permission denied); the previous output is unchanged")
    assert digest(graded) == before


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


def test_feedback_written_by_two_processes_is_byte_identical(tmp_path, bank):
    """From 2,000 students on, two processes render and write the feedback pages (Linux): the output folder,
    manifest included, is the same bytes as one process writes."""
    from grader.grade import GradeOptions, run_grade

    outs = {}
    for workers in (1, 2):
        outs[workers] = tmp_path / f"out{workers}"
        run_grade(GradeOptions(export=EXPORT, key=KEY, out=outs[workers], workers=workers), bank)
    assert digest(outs[1]) == digest(outs[2]) and len(digest(outs[1])) > 600


@pytest.mark.parametrize("workers", [1, 3])
def test_every_chunk_is_written_once_whoever_takes_it(tmp_path, workers):
    """The processes take chunks as they go (this one busy first): every chunk's files exist exactly once, and
    the folder is the one a single process writes, manifest included."""
    from grader.outfolder import MAX_CHUNKS, OutputFolder

    def produce(k, chunks):
        assert chunks == 200
        yield f"feedback/{k:03d}.html", b"page %d" % k
        yield f"feedback/{k:03d}.md", b"md %d" % (k * k)

    with OutputFolder(tmp_path / "out") as o:
        o.write_parts(produce, 200, workers=workers, meanwhile=lambda: o.write_text("scores.csv", "id\n"))
        written = o.commit()
    assert len(written) == 401 and written[-1] == "scores.csv"
    for k in range(200):
        assert (tmp_path / "out" / f"feedback/{k:03d}.html").read_bytes() == b"page %d" % k
        assert (tmp_path / "out" / f"feedback/{k:03d}.md").read_bytes() == b"md %d" % (k * k)
    with OutputFolder(tmp_path / "one") as o:
        o.write_text("scores.csv", "id\n")
        o.write_parts(produce, 200)
        o.commit()
    assert (tmp_path / "one" / MANIFEST).read_bytes() == (tmp_path / "out" / MANIFEST).read_bytes()
    with pytest.raises(ValueError, match="chunks must be"):
        with OutputFolder(tmp_path / "x") as o:
            o.write_parts(produce, MAX_CHUNKS + 1, workers=2)


def test_a_failing_writer_process_stops_the_run_and_leaves_nothing(tmp_path):
    """The forked part's disk error reaches the caller as the same InputError; the new folder is gone and the target
    never appears; the parent's own part was written in vain."""
    from grader.errors import InputError
    from grader.outfolder import OutputFolder

    parent = os.getpid()

    def produce(k, chunks):
        if os.getpid() != parent:
            raise InputError("cannot write feedback/x.html (No space left on device); nothing was replaced")
        yield f"{k}.txt", b"a"

    out = tmp_path / "out"
    with pytest.raises(InputError, match="No space left on device"):
        with OutputFolder(out) as o:
            # this process is busy first, so the forked one takes a chunk (and fails on it)
            o.write_parts(produce, 8, workers=2, meanwhile=lambda: time.sleep(0.5))
            o.commit()
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_two_parts_writing_one_name_is_refused(tmp_path):
    """Whichever process comes second is refused: by the file system (created only new) or when the parts join."""
    from grader.errors import InputError
    from grader.outfolder import OutputFolder

    with pytest.raises((ValueError, InputError), match="same.txt (written twice|.*File exists)"):
        with OutputFolder(tmp_path / "out") as o:
            o.write_parts(lambda k, chunks: iter([("same.txt", b"%d" % k)]), 2, workers=2)
    # this process busy first: the forked one takes both chunks and refuses the second itself (the same ValueError
    # as in one process, not "writing in parallel failed")
    with pytest.raises(ValueError, match="same.txt written twice in one output"):
        with OutputFolder(tmp_path / "out") as o:
            o.write_parts(lambda k, chunks: iter([("same.txt", b"%d" % k)]), 2, workers=2,
                          meanwhile=lambda: time.sleep(0.5))
    assert list(tmp_path.iterdir()) == []


def test_the_manifest_reads_back_as_written_whatever_the_names():
    """The manifest is written piece by piece (100,000 students: 25 MB never held at once); every line is still the
    JSON of its entry, and the whole parses back to the same entries and meta."""
    import json

    from grader.outfolder import Entry, manifest_text

    names = ["feedback/王小明.html", 'feedback/a"b\\c.md', "feedback/\u2028x.html", "feedback/é~1.md", "grades.csv"]
    entries = [Entry(n, i * 1000, f"{i:064x}") for i, n in enumerate(names)]
    meta = {"key": "王.yaml", "pending": ["q05"], "decimals": 4}
    text = manifest_text(list(reversed(entries)), meta)
    doc = json.loads(text)
    assert doc["format"] == "hw10-output/1" and doc["meta"] == meta
    assert [Entry(**e) for e in doc["files"]] == sorted(entries, key=lambda e: e.path)
    lines = text.split("\n")[1:1 + len(entries)]  # not splitlines(): U+2028 in a name is no line end
    assert [json.loads(line.rstrip(",")) for line in lines] == doc["files"]
    assert [line.rstrip(",") for line in lines] == [json.dumps(e, ensure_ascii=False) for e in doc["files"]]


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


def test_scanning_and_deleting_in_two_processes_is_the_same_as_in_one(tmp_path, monkeypatch):
    """From :data:`SHARED_FROM` files on, a folder's files are stat-ed and deleted by two processes (here from 2):
    the same scan as one process, every listed file deleted and nothing else."""

    monkeypatch.setattr(outfolder, "SHARED_FROM", 2)
    root = tmp_path / "out"
    (root / "feedback" / "deep").mkdir(parents=True)
    listed = [f"feedback/{i}.md" for i in range(7)] + ["scores.csv", "feedback/deep/x.html"]
    for rel in listed:
        (root / rel).write_bytes(rel.encode() * 3)
    (root / MANIFEST).write_text("{}", encoding="utf-8")
    (root / "feedback" / "mine.txt").write_text("keep\n", encoding="utf-8")
    (root / "link").symlink_to(root / "scores.csv")
    os.mkfifo(root / "pipe")
    one, two = outfolder.scan(root), outfolder.scan(root, shared=True)
    assert one == two and len(one.files) == len(listed) + 2
    assert one.links == ["link"] and one.other == ["pipe"] and one.dirs == {"feedback", "feedback/deep"}
    assert outfolder.fingerprint(root) == outfolder.fingerprint(root, shared=True)
    outfolder.remove_listed(root, listed, shared=True)
    assert sorted(digest(root)) == ["feedback/mine.txt", "link"] and (root / "pipe").exists()
    assert not (root / "feedback" / "deep").exists() and not (root / MANIFEST).exists()


@pytest.mark.parametrize("shared", [False, True])
def test_a_folder_swapped_for_a_link_during_the_deletion_leads_nowhere(tmp_path, monkeypatch, shared):
    """The issue's attack: after the swap, another process (a group-writable folder) replaces the old output's
    feedback/ with a link to a folder of someone else's files with the same names. Deleting by path would delete
    those; deleting through the descriptors of the folders as opened (no link followed) deletes none of them."""
    monkeypatch.setattr(outfolder, "SHARED_FROM", 2)
    old = tmp_path / "old"
    (old / "feedback").mkdir(parents=True)
    listed = [f"feedback/{i}.html" for i in range(20)] + ["scores.csv"]
    for rel in listed:
        (old / rel).write_text(rel, encoding="utf-8")
    (old / MANIFEST).write_text("{}", encoding="utf-8")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    for i in range(20):
        (theirs / f"{i}.html").write_text("someone else's", encoding="utf-8")
    shutil.rmtree(old / "feedback")
    (old / "feedback").symlink_to(theirs)
    outfolder.remove_listed(old, listed, shared=shared)
    assert len(list(theirs.iterdir())) == 20  # every one of their files is still there
    assert (old / "feedback").is_symlink() and not (old / "scores.csv").exists() and not (old / MANIFEST).exists()
    # and the old folder itself replaced by a link: nothing behind it is touched
    target = tmp_path / "target"
    target.mkdir()
    (target / "scores.csv").write_text("theirs", encoding="utf-8")
    (tmp_path / "old2").symlink_to(target)
    outfolder.remove_listed(tmp_path / "old2", ["scores.csv"], shared=shared)
    assert (target / "scores.csv").read_text(encoding="utf-8") == "theirs"


def test_a_half_the_forked_process_fails_is_done_here(monkeypatch):
    """A forked half that fails (any reason) is not trusted: this process does it again, the result is whole."""

    monkeypatch.setattr(outfolder, "SHARED_FROM", 2)
    parent = os.getpid()

    def work(items):
        if os.getpid() != parent:
            raise OSError("the forked half fails")
        return "".join(items).encode()

    assert outfolder._in_halves(work, list("abcdefg")) == b"abcdefg"


def test_a_refused_folder_stops_the_run_before_any_page_is_rendered(graded, capsys, monkeypatch):
    """The check of the earlier output runs beside the reading; a refusal it has found by the time grading ends
    (here: a file hw10 did not write, found at once) stops the run there, not after every page is written."""
    from grader import readers
    from reports.render import FeedbackRenderer

    (graded / "mine.txt").write_text("TA notes\n", encoding="utf-8")
    real_read = readers.read_submissions

    def slow_read(*args, **kwargs):
        time.sleep(1.0)  # the checking process surely ends first
        return real_read(*args, **kwargs)

    rendered = []
    monkeypatch.setattr("grader.grade.read_submissions", slow_read)
    monkeypatch.setattr(FeedbackRenderer, "render", lambda self, r: rendered.append(r) or (b"", b""))
    assert grade(EXPORT, graded) == 2
    refused(capsys, "files hw10 did not write: mine.txt")
    assert rendered == []


def inodes(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` → (inode, number of names it has)."""
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_nlink) for p in folder.rglob("*") if p.is_file()}


def test_a_rerun_links_the_files_that_did_not_change(tmp_path, graded):
    """A rerun's file whose bytes are what the earlier output's manifest records for the same name is that earlier
    file, hard-linked into the new folder (one system call instead of three; deleting the earlier name frees
    nothing). Here one student is renamed: their two pages and the class files are new files, every other page is
    the earlier one; the folder is byte-identical to a fresh run's, and every file has one name again."""
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(EXPORT.read_bytes().replace("王冠宇,148200,".encode(), "王小明,148200,".encode()))
    before = inodes(graded)
    assert grade(renamed, graded) == 0
    after = inodes(graded)
    fresh = tmp_path / "fresh"
    assert grade(renamed, fresh) == 0
    assert digest(graded) == digest(fresh)
    kept = {rel for rel in after if rel in before and after[rel][0] == before[rel][0]}
    assert set(after) - kept == {"feedback/148200.html", "feedback/148200.md", "scores.csv", "grades.csv",
                                 "report.html", MANIFEST}
    assert {n for _, n in after.values()} == {1}
    assert [p.name for p in tmp_path.iterdir() if ".hw10-" in p.name] == []


@pytest.mark.parametrize("how", ["refused", "no os.link"])
def test_where_links_cannot_be_made_the_files_are_written(graded, monkeypatch, how):
    """A file system without hard links (FAT, some network shares), or a Python without ``os.link`` (simulated: this
    one has both): the rerun writes every file, the same bytes, and stops trying to link after the first refusal."""
    tried = []

    def no_links(src, dst, **kwargs):
        tried.append(dst)
        raise OSError(errno.EPERM, "Operation not permitted")

    if how == "refused":
        monkeypatch.setattr(os, "link", no_links)
    else:
        monkeypatch.delattr(os, "link")
    before, first = inodes(graded), digest(graded)
    assert grade(EXPORT, graded) == 0
    assert digest(graded) == first
    assert not {ino for ino, _ in inodes(graded).values()} & {ino for ino, _ in before.values()}
    assert len(tried) == (1 if how == "refused" else 0)


def test_only_a_file_that_is_hw10_s_alone_is_linked(tmp_path, graded):
    """An earlier file that has another name too (a TA's ``ln`` of scores.csv) or another mode (a TA's chmod of
    grades.csv) is not linked: the new output's file is a new file, as a first run's would be, and the TA's own
    name keeps its bytes."""
    mine = tmp_path / "mine.csv"
    os.link(graded / "scores.csv", mine)
    kept = mine.read_bytes()
    (graded / "grades.csv").chmod(0o400)
    before = inodes(graded)
    assert grade(EXPORT, graded) == 0
    after = inodes(graded)
    assert after["scores.csv"][0] != mine.stat().st_ino and mine.read_bytes() == kept and mine.stat().st_nlink == 1
    assert after["grades.csv"][0] != before["grades.csv"][0] and (graded / "grades.csv").stat().st_mode & 0o200
    assert after["items.csv"][0] == before["items.csv"][0]  # the others are linked as before


def test_the_file_linked_is_the_file_checked(tmp_path, monkeypatch):
    """Someone moves an earlier file away, puts other bytes of its size in its place for the moment hw10 links it,
    then moves the original back (same inode, same time: the folder looks untouched): the link is to the other
    file, so it is not kept; the new output has the bytes its manifest records."""

    out = tmp_path / "out"
    with outfolder.OutputFolder(out) as o:
        o.write_bytes("x.txt", b"AAAA")
        o.commit()
    real = os.link

    def racing(src, dst, **kwargs):
        os.rename(src, src + ".away")
        Path(src).write_bytes(b"EVIL")
        real(src, dst, **kwargs)
        os.replace(src + ".away", src)

    monkeypatch.setattr(os, "link", racing)
    with outfolder.OutputFolder(out) as o:
        o.write_bytes("x.txt", b"AAAA")
        o.commit()
    assert (out / "x.txt").read_bytes() == b"AAAA"
    assert outfolder.check_replaceable(out)  # and the next run finds it as recorded


def test_a_receipt_gone_since_the_check_is_a_clear_error(tmp_path):
    """What a run keeps from the earlier output (the upload receipt) is read without following links; one that a
    person removed after the check is an error naming it (exit 2 from the command), not a traceback."""
    from grader.errors import InputError

    out = tmp_path / "out"
    with outfolder.OutputFolder(out) as o:
        o.write_bytes("upload-receipt.json", b"{}")
        o.commit()
    with outfolder.OutputFolder(out) as o:
        (out / "upload-receipt.json").unlink()
        with pytest.raises(InputError, match="cannot read the earlier output's upload-receipt.json"):
            o.carry("upload-receipt.json")


@pytest.mark.parametrize("background", [False, True])
def test_an_earlier_file_edited_since_is_never_kept_though_linked(tmp_path, monkeypatch, background):
    """A file a person edited since hw10 wrote it (same size) is linked like any other when the new bytes are what
    the manifest records (the link is made before its content is compared, when the check runs beside the
    writing): the comparison before the swap refuses the folder, and the edit stays where it was, alone."""
    from grader.errors import InputError

    out = tmp_path / "out"
    with outfolder.OutputFolder(out) as o:
        o.write_bytes("page.md", b"Total 8.0\n")
        o.write_bytes("other.md", b"other\n")
        o.commit()
    (out / "page.md").write_bytes(b"TOTAL 8.0\n")
    before = digest(out)
    if background:  # the content check is slowed so that the link is surely made before its verdict
        real = outfolder.edited_files
        monkeypatch.setattr(outfolder, "edited_files", lambda *a: time.sleep(0.5) or real(*a))
    folder = outfolder.OutputFolder(out, background=background)
    with pytest.raises(InputError, match="files changed since hw10 wrote them: page.md"), folder as o:
        o.write_bytes("page.md", b"Total 8.0\n")
        o.write_bytes("other.md", b"other\n")
        assert (o._stage / "page.md").stat().st_ino == (out / "page.md").stat().st_ino  # linked, not yet compared
        o.commit()
    assert digest(out) == before and inodes(out)["page.md"][1] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


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
