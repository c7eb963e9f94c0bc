"""The writing side: :class:`OutputFolder` (a new sibling folder filled file by file or by writer processes, a file
that did not change linked from the earlier output, the earlier output checked meanwhile, then swapped in for it),
:func:`refuse_inputs_inside` (no input inside the folder to be replaced) and :func:`add_file` (one file added to a
folder hw10 filled, its manifest kept true).

A part of :mod:`grader.outfolder`, whose docstring holds the output-folder rule. Nothing here prints.
"""
from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

from ..errors import InputError
from .check import (
    _READ_EARLIER,
    _checked,
    _Checker,
    _edited,
    _holds_something,
    _link_inodes,
    _refusal,
    _report_line,
    _start_checker,
    _umask,
    check_replaceable,
    edited_files,
    fingerprint,
)
from .manifest import MANIFEST, Entry, manifest_pieces, manifest_text
from .processes import _TICKET, MAX_CHUNKS, _claimed, _entries_report, _forks, _read_entries, _read_whole, _unpacked
from .swap import remove_listed

_NO_LINKS = {getattr(errno, name) for name in ("EXDEV", "EPERM", "EMLINK", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EACCES")
             if hasattr(errno, name)}
"""Errors of ``link`` that mean no file here can be linked (another file system, no hard links, no permission)."""


class _Reusable(NamedTuple):
    """The earlier output's files a rerun may link (:meth:`OutputFolder._create`), as three parallel columns: built
    in C from the checker's listing (200,000 entries), not one object per file."""

    at: dict[str, int]
    """Path → its row."""
    digests: bytes
    """The manifest's SHA-256s, 32 bytes a row."""
    inodes: array
    """The inode to link per row (0: not to be linked)."""

    @classmethod
    def of(cls, paths: list[str], shas: str, inodes: Iterable[int]) -> "_Reusable":
        """From the paths, their SHA-256s (hex, one after another; a ValueError when not hex) and inodes."""
        return cls(dict(zip(paths, range(len(paths)))), bytes.fromhex(shas), array("Q", inodes))

    def inode(self, rel: str, digest: bytes) -> int:
        """The inode to link for ``rel`` when the manifest records ``digest`` for it, else 0."""
        i = self.at.get(rel)
        if i is None or self.digests[32 * i:32 * i + 32] != digest:
            return 0
        return self.inodes[i]


_NOTHING = _Reusable({}, b"", array("Q"))


def refuse_inputs_inside(folder: Path, inputs: Iterable[Path | None]) -> None:
    """An :class:`InputError` when an input file lies inside ``folder`` (it would be replaced or deleted)."""
    root = folder.resolve()
    for p in inputs:
        if p is None:
            continue
        r = Path(p).resolve()
        if r == root or root in r.parents:
            raise InputError(f"the input {p} lies inside the output folder {folder}: hw10 replaces that folder's "
                             "contents; move the input or choose another --out", file=str(p))


class OutputFolder:
    """Files written together into a folder hw10 owns (module docstring). Use as a context manager::

        with OutputFolder(out, inputs=[export, key]) as o:
            o.write_text("report.html", html)
            o.commit()

    Leaving the block without :meth:`commit` (an exception) removes what was written and leaves ``out`` as
    it was."""

    def __init__(self, target: Path, *, inputs: Iterable[Path | None] = (), meta: dict | None = None,
                 background: bool = False):
        self.target = Path(target)
        self.meta = dict(meta or {})
        """What produced the folder (e.g. the key's hash), kept in the manifest for the commands that read it."""
        refuse_inputs_inside(self.target, inputs)
        self._old: list[str] = []
        """The earlier output's files (relative paths), as its manifest lists them."""
        self._seen: tuple = ()
        """The folder as it was checked; :meth:`commit` replaces it only if it is still so."""
        self._unread: list[Entry] | None = None
        """Earlier files whose content is still to be compared with the manifest (:meth:`check_previous`): without
        ``background``, a rerun reads them while its pages are written (their sizes are checked here); with it, the
        checking process reads them and this stays None."""
        self._checker: _Checker | None = None
        """The process checking the earlier output in the background, until :meth:`checked`."""
        self._reuse = _NOTHING
        """The earlier output's files a new file with the same bytes is linked from (:meth:`_create`)."""
        self._listing_taken = False
        self._scanned: dict | None = None
        """The earlier output's files as scanned (:attr:`Scan.files`), when this process checked it itself."""
        self._stage: Path | None = None
        self._names: set[str] = set()
        self._written: list[Entry] = []
        self._made: set[str] = set()
        if background and _forks() and _holds_something(self.target):
            self._checker = _start_checker(self.target)
        else:
            def keep(entries: list[Entry], files: dict) -> None:
                self._scanned = files
                self._reuse = _Reusable.of([e.path for e in entries], "".join(e.sha256 for e in entries),
                                         _link_inodes(entries, files))

            old, self._seen = _checked(self.target, read_files=False, listed=keep)
            self._old, self._unread = [e.path for e in old], old

    def checked(self, *, wait: bool = True) -> None:
        """Wait for the earlier output's check (``background=True``) and raise its refusal, if any: the same
        :class:`InputError` the check before any work would have raised. A no-op once done, or without one. With
        ``wait`` false, a check that has already ended is taken (a refusal found early stops the run early) and one
        still running is left to run."""
        if self._checker is None:
            return
        status = None
        if not wait:
            ended, status = os.waitpid(self._checker.pid, os.WNOHANG)
            if ended == 0:
                return
        try:
            doc = _report_line(self._checker.reports)
            if "listed" in doc and not self._listing_taken:
                self._take_listing(doc)
                doc = _report_line(self._checker.reports)
        except BaseException:
            if status is not None:  # reaped already: its pid may be another process's by now, never signal it
                self._close_checker()
            raise
        self._end_check(doc, status)

    def _await_listing(self) -> None:
        """Take the earlier output's listing from the background check as soon as it has one (the folder holds only
        the files its manifest lists, at their sizes; their contents are still being compared): what :meth:`_create`
        may link. A check that ends without one (a refusal) is taken whole, its refusal raised."""
        if self._checker is None or self._listing_taken:
            return
        doc = _report_line(self._checker.reports)  # waits until the check has read the manifest (or ended)
        if "listed" in doc:
            self._take_listing(doc)
        else:
            self._end_check(doc, None)

    def _take_listing(self, doc: dict) -> None:
        assert self._checker is not None
        self._listing_taken = True
        n = doc["listed"]
        if not isinstance(n, int) or n < 0:
            raise RuntimeError(f"checking the earlier output in {self.target} failed: it reported {doc!r}")
        # built without an Entry per file: at 100,000 students 200,000 of them took 0.8 s, this 0.15 s
        data = _read_whole(self._checker.listing)
        inodes = array("Q")
        inodes.frombytes(data[:8 * n])
        paths, _, shas = _unpacked(data[8 * n:].partition(b"\n")[2], n)
        try:
            self._reuse = _Reusable.of(paths, shas, inodes)  # the manifest's SHA-256s, checked to be hex when read
        except ValueError:
            raise RuntimeError(f"checking the earlier output in {self.target} failed: its listing is garbled") from None
        self._old = paths

    def _end_check(self, doc: dict, status: int | None) -> None:
        """The background check's verdict ``doc``: its refusal raised, or the folder as it was checked kept."""
        checker = self._close_checker()
        if status is None:
            _, status = os.waitpid(checker.pid, 0)
        if isinstance(doc.get("error"), dict):
            self._reuse = _NOTHING
            raise InputError(**doc["error"])
        if status != 0 or doc.get("ok") != len(self._old) or not isinstance(doc.get("seen"), list):
            self._reuse = _NOTHING
            why = doc.get("failed") or f"the checking process ended with status {status}"
            raise RuntimeError(f"checking the earlier output in {self.target} failed: {why}")
        self._seen, self._unread = tuple(doc["seen"]), None

    def _close_checker(self) -> _Checker:
        """Forget the background check (its pipe and listing closed); the process is the caller's to reap."""
        assert self._checker is not None
        checker, self._checker = self._checker, None
        with contextlib.suppress(OSError):
            checker.reports.close()
        with contextlib.suppress(OSError):
            os.close(checker.listing)
        return checker

    def abandon(self) -> None:
        """Stop and reap the background check (``background=True``) of a run that ends before it needs the result
        (:meth:`__exit__` does the same)."""
        if self._checker is not None:
            checker = self._close_checker()
            with contextlib.suppress(OSError):
                os.kill(checker.pid, signal.SIGTERM)
                os.waitpid(checker.pid, 0)

    def __enter__(self) -> "OutputFolder":
        parent = self.target.absolute().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._stage = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.hw10-new-", dir=parent))
            os.chmod(self._stage, 0o777 & ~_umask())  # mkdtemp's 0700 is for secrets; this is a TA's folder
        except OSError as exc:
            raise InputError(f"cannot create the output folder ({exc.strerror})", file=str(self.target)) from None
        return self

    def __exit__(self, *exc) -> None:
        self.abandon()
        if self._stage is not None and self._stage.exists():
            shutil.rmtree(self._stage, ignore_errors=True)  # our own new folder, never the TA's

    def _file(self, rel: str) -> str:
        """Where ``rel`` is written (inside the new folder; its parent folders are made)."""
        if self._stage is None:
            raise RuntimeError("OutputFolder used outside its with-block")
        parts = rel.split("/")
        if not rel or rel.startswith("/") or ".." in parts or "" in parts or rel == MANIFEST or "\\" in rel:
            raise ValueError(f"not a relative output path: {rel!r}")
        full = os.path.join(self._stage, *parts)  # strings: pathlib costs more than the write at 200,000 files
        parent = os.path.dirname(full)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        return full

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write one file (errors of the disk become an :class:`InputError` naming it)."""
        self._await_listing()
        if rel in self._names:
            raise ValueError(f"{rel} written twice in one output")
        self._names.add(rel)
        self._written.append(self._create(rel, data))

    def _create(self, rel: str, data: bytes) -> Entry:
        """Create ``rel`` in the new folder with ``data`` (a link to the earlier output's ``rel`` when the manifest
        records these bytes for it, module docstring); its manifest entry."""
        digest = hashlib.sha256(data).digest()
        try:
            full = self._file(rel)
            inode = self._reuse.inode(rel, digest)
            if inode and self._linked(rel, full, inode):
                return Entry(rel, len(data), digest.hex())
            # os.open, not Path.write_bytes: a third of the cost per file (20,000 feedback pages); O_EXCL and
            # O_NOFOLLOW: a file is only ever created new, in hw10's own new folder, never through a link
            fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
        except OSError as exc:
            raise InputError(f"cannot write {rel} ({exc.strerror}); nothing was replaced",
                             file=str(self.target)) from None
        return Entry(rel, len(data), digest.hex())

    def _linked(self, rel: str, full: str, inode: int) -> bool:
        """Whether the earlier output's ``rel`` could be hard-linked at ``full`` as the file checked (its ``inode``):
        whatever is under that name now is linked (the link itself if it has become a symbolic link: the check before
        the swap then refuses the folder), and kept only if it is that inode. Where links cannot be made, no other is
        tried."""
        link = getattr(os, "link", None)
        try:
            if link is None:
                raise NotImplementedError
            link(os.path.join(self.target, *rel.split("/")), full, follow_symlinks=False)
        except NotImplementedError:
            self._reuse = _NOTHING
            return False
        except OSError as exc:
            if exc.errno in _NO_LINKS:
                self._reuse = _NOTHING
            return False
        if os.lstat(full).st_ino == inode:
            return True
        os.unlink(full)  # another file than the one checked lies there now: this one is written instead
        return False

    def check_previous(self) -> None:
        """Compare the earlier output's files with their manifest (once): an :class:`InputError` naming those a
        person changed since hw10 wrote them. :meth:`commit` calls it when :meth:`write_parts` has not."""
        if self._unread is None:
            return
        edited = edited_files(self.target, self._unread, self._scanned)
        self._unread = None
        if edited:
            raise InputError(_refusal([_edited(edited)]), file=str(self.target))

    def write_parts(self, produce: Callable[[int, int], Iterable[tuple[str, bytes]]], chunks: int, *,
                    workers: int = 1, meanwhile: Callable[[], None] | None = None) -> None:
        """Write the files ``produce(k, chunks)`` yields (relative name, bytes) for every chunk ``k`` of ``chunks``,
        in ``workers`` processes: this one and ``workers - 1`` forked ones (Linux; elsewhere all here), so rendering
        and writing many pages uses every core. Each process takes the next chunk nobody has taken yet (tickets in a
        pipe), so a process that had other work first — ``meanwhile`` here (e.g. the files that need more than the
        pages), the earlier output's check (:meth:`check_previous`) in the last one — simply takes fewer chunks and
        all end together. The files are the same whoever writes them; the manifest is sorted. A part that fails
        stops the run with its message, nothing replaced."""
        if not 1 <= chunks <= MAX_CHUNKS:
            raise ValueError(f"chunks must be 1 … {MAX_CHUNKS}, not {chunks}")
        self._await_listing()  # before the writers are forked: what they may link
        if workers <= 1 or not hasattr(os, "fork") or not sys.platform.startswith("linux"):
            if meanwhile is not None:
                meanwhile()
            for k in range(chunks):
                for rel, data in produce(k, chunks):
                    self.write_bytes(rel, data)
            return
        tickets, ticket_writer = os.pipe()
        try:  # all tickets at once, before any reader exists: MAX_CHUNKS keeps them within the pipe's buffer
            os.write(ticket_writer, b"".join(k.to_bytes(_TICKET, "little") for k in range(chunks)))
        finally:
            os.close(ticket_writer)
        children: list[tuple[int, int]] = []
        # the objects that exist now are shared with the children: frozen, the garbage collector neither walks them
        # (in the children that would copy every page it touches) nor spends time on them in this process
        gc.freeze()
        try:
            for k in range(1, workers):
                read_end, write_end = os.pipe()
                pid = os.fork()
                if pid == 0:  # the child: write its chunks, report the entries, never return into the caller
                    try:
                        os.close(read_end)
                        self._child_part(produce, chunks, tickets, write_end, check=k == workers - 1)
                    finally:
                        os._exit(1)  # only reached if _child_part could not exit itself
                os.close(write_end)
                children.append((pid, read_end))
            if meanwhile is not None:
                meanwhile()
            for k in _claimed(tickets):
                for rel, data in produce(k, chunks):
                    self.write_bytes(rel, data)
            for pid, read_end in children:
                with os.fdopen(read_end, "rb") as f:
                    report = f.read()
                _, status = os.waitpid(pid, 0)
                self._adopt(report, status)
            children = []
        finally:
            gc.unfreeze()
            os.close(tickets)
            for pid, read_end in children:  # this process failed: stop the others before the new folder goes
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGTERM)
                    os.waitpid(pid, 0)
                with contextlib.suppress(OSError):
                    os.close(read_end)

    def _child_part(self, produce, chunks: int, tickets: int, write_end: int, check: bool) -> None:
        """In a forked child: (with ``check``, :meth:`check_previous` first) write the chunks it claims from
        ``tickets`` and send their entries (or its error) down ``write_end``; exit."""
        code = 0
        try:
            if check:
                self.check_previous()
            seen: set[str] = set()
            entries: list[Entry] = []
            for k in _claimed(tickets):
                for rel, data in produce(k, chunks):
                    if rel in seen or rel in self._names:
                        raise ValueError(f"{rel} written twice in one output")
                    seen.add(rel)
                    entries.append(self._create(rel, data))
            report = _entries_report(entries, check)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
            code = 1
            kind = "input" if isinstance(exc, InputError) else "value" if isinstance(exc, ValueError) else "other"
            report = json.dumps({"error": str(exc), "kind": kind}).encode("utf-8") + b"\n"
        try:
            with os.fdopen(write_end, "wb") as f:
                f.write(report)
        finally:
            os._exit(code)  # no atexit handlers, no flushing the parent's buffers twice

    def _adopt(self, report: bytes, status: int) -> None:
        """Take a child's entries (:func:`_entries_report`) into this folder's manifest (or raise its error)."""
        head, _, body = report.partition(b"\n")
        try:
            doc = json.loads(head.decode("utf-8"))
        except ValueError:  # not UTF-8 or not JSON
            doc = {}
        if not isinstance(doc, dict) or "n" not in doc or status != 0:
            why = doc.get("error") if isinstance(doc, dict) else None
            why = why or f"a writer process ended with status {status}"
            kind = doc.get("kind") if isinstance(doc, dict) else None
            if kind == "input":
                raise InputError(why)
            if kind == "value":  # a file written twice: the same error as in one process
                raise ValueError(why)
            raise RuntimeError(f"writing the output in parallel failed: {why}")
        entries = _read_entries(body, doc["n"])
        if doc.get("checked"):
            self._unread = None  # that part compared the earlier output with its manifest
        twice = self._names.intersection(e.path for e in entries)
        if twice:
            raise ValueError(f"{min(twice)} written twice in one output")
        self._names.update(e.path for e in entries)
        self._written += entries

    def write_text(self, rel: str, text: str) -> None:
        """Write one UTF-8 text file."""
        self.write_bytes(rel, text.encode("utf-8"))

    def carry(self, rel: str) -> bool:
        """Keep the previous output's ``rel`` (a record, like an upload receipt, that a new run must not lose) in
        the new folder; ``False`` when the previous output has none."""
        self.checked()
        if rel not in self._old:
            return False
        try:  # never through a link, never blocking on something that replaced the file since it was checked
            fd = os.open(self.target / rel, _READ_EARLIER)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise OSError(errno.EINVAL, "not a regular file any more")
                data = b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
            finally:
                os.close(fd)
        except OSError as exc:
            raise InputError(f"cannot read the earlier output's {rel} to keep it ({exc.strerror}); nothing was "
                             "replaced", file=str(self.target)) from None
        self.write_bytes(rel, data)
        return True

    def commit(self) -> list[str]:
        """Swap the new folder in for ``target`` and delete the previous output's files; returns what was written."""
        assert self._stage is not None
        self.checked()
        self.check_previous()
        self._reuse = _NOTHING  # every file is written: what links could be made is not needed any more
        try:
            with open(self._stage / MANIFEST, "w", encoding="utf-8") as f:
                f.writelines(manifest_pieces(self._written, self.meta))
            self._written = []  # recorded: let the entries go before the folder is scanned again (100,000: 40 MB)
            # the folder hw10 is about to replace must still be what was checked (nobody wrote into it since)
            if fingerprint(self.target, shared=True) != self._seen:
                raise InputError("changed while hw10 was writing; nothing was replaced, run again",
                                 file=str(self.target))
            old = None
            if self.target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.hw10-old-", dir=self._stage.parent))
                old.rmdir()
                os.rename(self.target, old)
        except OSError as exc:
            raise InputError(f"cannot replace the output folder ({exc.strerror}); the previous output is unchanged",
                             file=str(self.target)) from None
        try:
            os.rename(self._stage, self.target)
        except OSError as exc:
            if old is not None:
                os.rename(old, self.target)  # put the previous output back where it was
            raise InputError(f"cannot replace the output folder ({exc.strerror}); the previous output is unchanged",
                             file=str(self.target)) from None
        self._stage = None
        if old is not None:
            remove_listed(old, self._old, shared=True)
        return sorted(self._names)


def add_file(folder: Path, rel: str, data: bytes) -> None:
    """Add (or replace) one file hw10 writes into a folder it filled (e.g. an upload receipt), keeping the
    manifest true: the file and then the manifest are each written to a temporary name and renamed."""
    entries = [e for e in check_replaceable(folder) if e.path != rel]
    doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    if "/" in rel or rel in ("", MANIFEST, ".", ".."):
        raise ValueError(f"not a file name: {rel!r}")
    for name, payload in ((rel, data), (MANIFEST, None)):
        if payload is None:
            entries.append(Entry(rel, len(data), hashlib.sha256(data).hexdigest()))
            payload = manifest_text(entries, meta).encode("utf-8")
        tmp = folder / f".{name}.hw10-tmp-{os.getpid()}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            os.replace(tmp, folder / name)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot write {name} ({exc.strerror})", file=str(folder)) from None
