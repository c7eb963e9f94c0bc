"""How an output folder's files are written and removed (grader/outfolder/): feedback file names, the writer
processes taking chunks, the manifest written piece by piece, an earlier output scanned and deleted by two
processes."""
from __future__ import annotations

import csv
import io
import os
import shutil
import time

import pytest
from exportkit import Row, write_export
from test_output_folder import EXPORT, KEY, digest, grade

from grader import outfolder
from grader.outfolder import MANIFEST


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


def test_feedback_written_by_two_processes_is_byte_identical(tmp_path, bank):
    """From 2,000 students on, two processes render and write the feedback pages (Linux): the output folder,
    manifest included, is the same bytes as one process writes."""
    from hw10.grade import GradeOptions, run_grade

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


def test_scanning_and_deleting_in_two_processes_is_the_same_as_in_one(tmp_path, monkeypatch):
    """From :data:`SHARED_FROM` files on, a folder's files are stat-ed and deleted by two processes (here from 2):
    the same scan as one process, every listed file deleted and nothing else."""

    monkeypatch.setattr(outfolder.processes, "SHARED_FROM", 2)
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
    monkeypatch.setattr(outfolder.processes, "SHARED_FROM", 2)
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

    monkeypatch.setattr(outfolder.processes, "SHARED_FROM", 2)
    parent = os.getpid()

    def work(items):
        if os.getpid() != parent:
            raise OSError("the forked half fails")
        return "".join(items).encode()

    assert outfolder._in_halves(work, list("abcdefg")) == b"abcdefg"
