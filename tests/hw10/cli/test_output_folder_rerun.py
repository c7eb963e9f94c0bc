"""`hw10 grade --out OUT` replaces its own earlier output all at once (grader/outfolder/): a rerun, a run or a swap
that fails halfway, the unchanged files a rerun links instead of writing them again, and what a run keeps (the upload
receipt). Every case checks the bytes (and here the inodes) of what must not change."""
from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
import test_output_folder as shared
from test_output_folder import EXPORT, digest, grade, refused

from grader import outfolder
from grader.outfolder import MANIFEST

graded_once, graded = shared.graded_once, shared.graded
"""The sample class graded once for this module, and each test's copy of it (test_output_folder.py)."""


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
    assert grade(EXPORT, graded, key=pending) == 3  # grades.csv withheld
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
        real = outfolder.check.edited_files  # what the checking process calls
        monkeypatch.setattr(outfolder.check, "edited_files", lambda *a: time.sleep(0.5) or real(*a))
    folder = outfolder.OutputFolder(out, background=background)
    with pytest.raises(InputError, match="files changed since hw10 wrote them: page.md"), folder as o:
        o.write_bytes("page.md", b"Total 8.0\n")
        o.write_bytes("other.md", b"other\n")
        assert (o._stage / "page.md").stat().st_ino == (out / "page.md").stat().st_ino  # linked, not yet compared
        o.commit()
    assert digest(out) == before and inodes(out)["page.md"][1] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
