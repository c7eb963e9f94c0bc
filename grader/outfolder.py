"""An output folder written as one unit, that never touches a file hw10 did not write.

The rule (``hw10 grade --out OUT``, and any command that fills a folder):

* **Inputs are never inside it.** An input file (the export, a key, a pins file) that lies inside ``OUT`` is
  refused before anything is written: replacing ``OUT`` would replace or delete it.
* **hw10 only replaces what it wrote.** Every folder hw10 fills holds ``.hw10-manifest.json``: the files it
  wrote, each with its size and SHA-256 (so an unchanged rerun writes the same bytes, manifest included).
  ``OUT`` may be missing, empty, or a folder whose every entry is listed in its manifest and unchanged since;
  anything else is refused, naming the entries: a file hw10 did not write, one a person edited since, a
  symbolic link (never followed), a manifest that does not parse. All of it is checked before anything is
  replaced, and its refusal is the error reported even when other input is wrong too. Where it takes time (a
  rerun: 20,000 earlier pages to read and hash), ``hw10 grade`` has it done by another process while the export
  is read and graded and the new files are written (``background=True``); otherwise the listing and sizes are
  checked before any work starts and the content while the new files are written.
* **All or nothing.** Everything is written into a new sibling folder (``.OUT.hw10-new-…``, the same file
  system); only when every file is complete is ``OUT`` swapped for it (two renames), and then the previous
  output's listed files are deleted (by two processes when there are thousands: each file is a system call). An
  interrupted or failed run leaves the previous complete output (or, in the instant between the two renames,
  none), never a half; its partly written folder is removed.
* **What did not change is linked, not written again.** A new file whose bytes are those the manifest records for
  the earlier file of the same name is a hard link to that file in the new folder (one system call instead of
  three, and its deletion at the swap frees nothing): a rerun of 100,000 students writes 200,000 pages that are
  mostly unchanged. Only a file that is hw10's alone is linked (one name, this user's, the mode a new file gets),
  and only the very file (inode) whose content the check compares with the manifest before anything is replaced;
  the folder must be unchanged since (sizes, times, inodes) when it is. Where links cannot be made (another file
  system, FAT) the file is written.

Errors are :class:`grader.errors.InputError` naming the folder or file (exit 2). Nothing here prints.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import gc
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import struct
import sys
import tempfile
from array import array
from dataclasses import asdict, dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, NamedTuple

from .errors import InputError

MANIFEST = ".hw10-manifest.json"
FORMAT = "hw10-output/1"
MANIFEST_MAX_BYTES = 256 * 1024 * 1024
"""A manifest larger than this is not one hw10 wrote (100,000 students' files take ~25 MB)."""
_SHOWN = 5
_TICKET = 4
"""Bytes per chunk number in :meth:`OutputFolder.write_parts`' ticket pipe (a read of 4 bytes is never split)."""
MAX_CHUNKS = 1024
"""Most chunks :meth:`OutputFolder.write_parts` hands out: their tickets (4 KiB) fit any pipe's buffer (one page,
what Linux gives a pipe when a user's pipe memory is at its limit), written at once."""


class Entry(NamedTuple):
    """One file hw10 wrote, as the manifest records it (a named tuple: a writer process's 100,000 of them are made
    in C, :func:`_read_entries`)."""

    path: str
    """Relative to the folder, ``/``-separated."""
    size: int
    sha256: str


@dataclass
class Scan:
    """What a folder holds, without following links."""

    files: dict[str, tuple[int, int, int, bool]] = field(default_factory=dict)
    """Relative path → (size, modification time in ns, inode, linkable): what a fingerprint needs, not a whole stat;
    ``linkable``: the file has no other name, is this user's and has the mode hw10 gives a new file, so a rerun may
    hard-link it into its new output and nothing but the time tells it from a file written anew."""
    dirs: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    """Sockets, fifos, devices …"""


def scan(root: Path, *, shared: bool = False) -> Scan:
    """Every entry under ``root`` by relative path; symbolic links are listed, never followed. The entries' types
    come with the listing; the files' sizes, times, inodes and whether they may be linked are one ``lstat`` each,
    shared with a forked process when ``shared`` and there are many (:func:`_in_halves`)."""
    out = Scan()
    maybe_files: list[tuple[str, str]] = []
    stack = [(root, "")]
    while stack:
        folder, rel = stack.pop()
        with os.scandir(folder) as it:
            for e in it:
                name = f"{rel}{e.name}"
                if e.is_symlink():
                    out.links.append(name)
                elif e.is_dir(follow_symlinks=False):
                    out.dirs.add(name)
                    stack.append((Path(e.path), name + "/"))
                else:
                    maybe_files.append((name, e.path))  # a file or something else: its lstat settles which
    paths = [full for _, full in maybe_files]
    stats = _in_halves(_lstats, paths) if shared else _lstats(paths)
    own = os.geteuid() if hasattr(os, "geteuid") else None
    new_file = stat.S_IFREG | (0o666 & ~_umask())  # the type and mode of a file hw10 writes
    files = out.files
    for (name, _), (size, mtime, inode, mode, nlink, uid) in zip(maybe_files, _STAT.iter_unpack(stats)):
        if mode & _S_IFMT == stat.S_IFREG:
            files[name] = (size, mtime, inode, mode == new_file and nlink == 1 and (own is None or uid == own))
        elif mode == 0:
            continue  # gone since it was listed
        elif stat.S_ISLNK(mode):
            out.links.append(name)
        else:
            out.other.append(name)  # sockets, fifos, devices … (or a folder that replaced a file just now)
    return out


_S_IFMT = 0o170000
"""The file-type bits of a mode (``stat.S_IFMT`` as a mask, without a call per file)."""
_STAT = struct.Struct("<qqQIQQ")
"""One file's size, modification time (ns), inode, mode, number of names and owner, as :func:`_lstats` packs them
(mode 0: gone)."""


def _lstats(paths: list[str]) -> bytes:
    """:data:`_STAT` records of ``paths`` (not following links), in order."""
    out = bytearray()
    for p in paths:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            out += _STAT.pack(0, 0, 0, 0, 0, 0)
        else:
            out += _STAT.pack(st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode, st.st_nlink, st.st_uid)
    return bytes(out)


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


class _Folders:
    """Directory descriptors under one root, each opened from its parent's without following a link: a file is
    deleted through the descriptor of the very folder that was opened, never by a path resolved again (where a
    folder replaced by a link to elsewhere meanwhile would lead the deletion there)."""

    def __init__(self, root: int):
        self.fds: dict[str, int | None] = {"": root}

    def fd(self, rel: str) -> int | None:
        """The descriptor of folder ``rel`` (``/``-separated, ``""`` the root); None when it is not a real folder
        (gone, or a link or file put in its place)."""
        if rel not in self.fds:
            parent, _, name = rel.rpartition("/")
            up = self.fd(parent)
            try:
                self.fds[rel] = None if up is None else os.open(name, _DIR_FLAGS, dir_fd=up)
            except OSError:
                self.fds[rel] = None
        return self.fds[rel]

    def close(self) -> None:
        """Close every descriptor but the root's (the caller's)."""
        for rel, fd in self.fds.items():
            if rel and fd is not None:
                os.close(fd)


def _unlinks_at(root: int, paths: list[str]) -> bytes:
    """Delete ``paths`` (relative to the folder open as ``root``; a link itself, never its target), each through its
    own folder's descriptor (:class:`_Folders`); those already gone, or in a folder that is no longer a real folder,
    are left alone."""
    folders = _Folders(root)
    try:
        for p in paths:
            parent, _, name = p.rpartition("/")
            fd = folders.fd(parent)
            if fd is None:
                continue
            try:
                os.unlink(name, dir_fd=fd)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                pass
    finally:
        folders.close()
    return b""


_NO_LINKS = {getattr(errno, name) for name in ("EXDEV", "EPERM", "EMLINK", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EACCES")
             if hasattr(errno, name)}
"""Errors of ``link`` that mean no file here can be linked (another file system, no hard links, no permission)."""

SHARED_FROM = 4_000
"""Files from which scanning or deleting them is shared with a forked process (each is a system call, on this
project's VM ~4 µs: 20,000 of them 0.1–0.3 s; below this number a fork costs more than it saves)."""


def _in_halves(work: Callable[[list[str]], bytes], items: list[str]) -> bytes:
    """``work(items)``, computed as ``work`` of the first half here and of the second half in a forked process at the
    same time (Linux, from :data:`SHARED_FROM` items): ``work`` must give the concatenation of its results for the
    parts of a list. A forked process that fails is simply not trusted: its half is done again here."""
    if len(items) < SHARED_FROM or not _forks():
        return work(items)
    half = len(items) // 2
    read_end, write_end = os.pipe()
    gc.freeze()  # the child touches none of this process's objects, so none of its pages are copied
    try:
        pid = os.fork()
    finally:
        gc.unfreeze()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            data = work(items[half:])
            with os.fdopen(write_end, "wb") as f:
                f.write(len(data).to_bytes(8, "little") + data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        mine = work(items[:half])
    finally:
        with os.fdopen(read_end, "rb") as f:
            report = f.read()
        _, status = os.waitpid(pid, 0)
    if status == 0 and len(report) >= 8 and int.from_bytes(report[:8], "little") == len(report) - 8:
        return mine + report[8:]
    return mine + work(items[half:])


def _forks() -> bool:
    """Whether work can be shared with forked processes here (Linux)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def _listing(names: Iterable[str]) -> str:
    names = sorted(names)
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" … ({len(names)} in all)" if len(names) > _SHOWN else "")


def _claimed(tickets: int) -> Iterator[int]:
    """The chunk numbers this process takes from the ticket pipe, one at a time, until none is left."""
    while True:
        ticket = os.read(tickets, _TICKET)
        if not ticket:
            return
        if len(ticket) != _TICKET:
            raise RuntimeError("a chunk ticket was split")  # impossible: tickets are written at once, read whole
        yield int.from_bytes(ticket, "little")


def _file_name(path: str) -> bool:
    """Whether ``path`` is text a file name read from this file system can be: encoded and decoded back it is the same
    (a lone surrogate from a JSON ``\\ud800`` cannot be encoded; ``\\udcc3\\udca9`` would come back as ``é``)."""
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape") == path
    except UnicodeEncodeError:
        return False


def read_manifest(folder: Path) -> list[Entry]:
    """The entries of ``folder``'s manifest; an :class:`InputError` when it is not one hw10 wrote."""
    path = folder / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            raise InputError(f"{MANIFEST} is not a regular file", file=str(folder))
        if path.stat().st_size > MANIFEST_MAX_BYTES:
            raise InputError(f"{MANIFEST} is larger than any hw10 writes", file=str(folder))
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: not UTF-8, not JSON, a 5,000-digit number
        raise InputError(f"{MANIFEST} cannot be read ({type(exc).__name__}): this folder's contents cannot be told "
                         "apart from files hw10 did not write; choose another --out", file=str(folder)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("files"), list):
        raise InputError(f"{MANIFEST} is not an hw10 output manifest ({FORMAT}); choose another --out",
                         file=str(folder))
    entries = _entries_whole(doc["files"])
    if entries is None:  # something is wrong: the same check entry by entry, to name the first entry that is
        raise _not_hw10s(folder, next((i for i, e in enumerate(doc["files"]) if _entries_whole([e]) is None), 0),
                         doc["files"])
    paths = [e.path for e in entries]
    joined = "\0".join(paths)  # checked whole (200,000 paths), entry by entry only to name the one that is wrong
    if not _file_name(joined):
        raise _not_hw10s(folder, next((i for i, p in enumerate(paths) if not _file_name(p)), 0), doc["files"])
    if len(set(paths)) != len(paths):
        where: dict[str, int] = {}
        for i, p in enumerate(paths):
            if p in where:
                raise InputError(f"{MANIFEST}: entries {where[p] + 1} and {i + 1} are both {p!r}; choose another "
                                 "--out", file=str(folder))
            where[p] = i
    return entries


def _entries_whole(files: list) -> list[Entry] | None:
    """The manifest's ``files`` as entries when every one is what hw10 writes (a mapping with a text ``path`` that is
    not the manifest's and has no empty, ``.`` or ``..`` part nor a NUL, a whole ``size`` ≥ 0 and a ``sha256`` of 64
    lowercase hex digits), checked column by column (200,000 entries: 0.1 s, one by one 0.45 s); None when any is
    not (every check is of one entry alone: :func:`read_manifest` finds the first wrong one by asking of each)."""
    if not files:
        return []
    if set(map(type, files)) != {dict}:
        return None
    try:
        paths, sizes, shas = (list(map(itemgetter(name), files)) for name in ("path", "size", "sha256"))
    except KeyError:
        return None
    if set(map(type, paths)) != {str} or set(map(type, sizes)) != {int} or set(map(type, shas)) != {str}:
        return None
    joined = "\0".join(paths)
    if (min(sizes) < 0 or set(map(len, shas)) != {64} or not _all_hex("".join(shas)) or MANIFEST in paths
            or joined.count("\0") != len(paths) - 1 or _bad_part(joined) is not None):
        return None
    return list(map(Entry._make, zip(paths, sizes, shas)))


_all_hex = re.compile("[0-9a-f]*").fullmatch
_bad_part = re.compile(r"(?:^|/|\x00)\.{0,2}(?:/|\x00|$)").search
"""An empty, ``.`` or ``..`` part in NUL-separated paths."""


def _not_hw10s(folder: Path, i: int, entry: object) -> InputError:
    if isinstance(entry, list):
        entry = entry[i]
    return InputError(f"{MANIFEST}: entry {i + 1} is not a file hw10 writes ({str(entry)[:80]!r}); choose another "
                      "--out", file=str(folder))


def check_replaceable(folder: Path) -> list[Entry]:
    """The manifest entries of ``folder`` when hw10 may replace it (missing: ``[]``; empty: ``[]``); else an
    :class:`InputError` naming what is in the way."""
    return _checked(folder)[0]


def _holds_something(folder: Path) -> bool:
    """Whether ``folder`` is a real folder (not a link) with at least one entry: what only a check can clear."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        with os.scandir(folder) as it:
            return next(it, None) is not None
    except OSError:
        return False


class _Checker(NamedTuple):
    """A process checking an earlier output in the background (:func:`_start_checker`)."""

    pid: int
    reports: BinaryIO
    """The pipe it reports through: JSON lines, ``{"listed": n}`` when the listing is ready, then the verdict."""
    listing: int
    """A file with no name it writes the listing into (the inodes a rerun may link, 8 bytes each, then
    :func:`_entries_report`; many MB at 100,000 students: more than a pipe holds while this process is busy
    elsewhere)."""


def _start_checker(folder: Path) -> _Checker:
    """Fork a process that checks ``folder`` as :func:`check_replaceable` does, earlier files' contents included.
    As soon as the folder's entries are found to be the files its manifest lists (before their contents are read),
    it writes them (the inode a rerun may link, :func:`_link_inodes`; then path, size, SHA-256) into
    :attr:`_Checker.listing` and reports ``{"listed": n}``; then its verdict:
    ``{"ok": n, "seen": fingerprint}``, or the refusal (``{"error": …}``), or ``{"failed": why}``."""
    listing = _nameless_file()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: check, report, never return into the caller
        code = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as reports:
                def send_listing(entries: list[Entry], files: dict) -> None:
                    inodes = array("Q", _link_inodes(entries, files)).tobytes()
                    view, at = memoryview(inodes + _entries_report(entries)), 0
                    while at < len(view):
                        at += os.pwrite(listing, view[at:], at)
                    reports.write(json.dumps({"listed": len(entries)}).encode("utf-8") + b"\n")
                    reports.flush()

                try:
                    entries, seen = _checked(folder, read_files=True, listed=send_listing)
                    doc: dict = {"ok": len(entries), "seen": list(seen)}
                    code = 0
                except InputError as exc:
                    doc = {"error": asdict(exc)}
                except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
                    doc = {"failed": f"{type(exc).__name__}: {exc}"}
                reports.write(json.dumps(doc).encode("utf-8") + b"\n")
        finally:
            os._exit(code)
    os.close(write_end)
    return _Checker(pid, os.fdopen(read_end, "rb"), listing)


def _link_inodes(entries: list[Entry], files: dict[str, tuple[int, int, int, bool]]) -> list[int]:
    """Per entry, the inode of the file found under its path that a rerun may hard-link (:attr:`Scan.files`'s
    ``linkable``), or 0: whatever is linked later must still be that inode, the one whose content the check reads."""
    out = []
    for e in entries:
        found = files.get(e.path)
        out.append(found[2] if found is not None and found[3] and found[0] == e.size else 0)
    return out


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


def _nameless_file() -> int:
    """A file descriptor of a new file without a name (in memory where Linux allows), gone when closed."""
    with contextlib.suppress(AttributeError, OSError):
        return os.memfd_create("hw10-listing", os.MFD_CLOEXEC)
    with tempfile.TemporaryFile() as f:
        return os.dup(f.fileno())


def _report_line(reports: BinaryIO) -> dict:
    """The checking process's next report (``{}`` when it sent none or not JSON)."""
    try:
        doc = json.loads(reports.readline().decode("utf-8"))
    except ValueError:  # not UTF-8 or not JSON
        return {}
    return doc if isinstance(doc, dict) else {}


def _checked(folder: Path, *, read_files: bool = True,
             listed: Callable[[list[Entry], dict], None] | None = None) -> tuple[list[Entry], tuple]:
    """:func:`check_replaceable`'s entries and the folder's :func:`fingerprint` as checked (one scan for both).
    With ``read_files`` false, a listed file of the recorded size is not hashed here: the caller checks its
    content later (:func:`edited_files`) before it replaces the folder. ``listed`` is given the entries and the
    scanned files (:attr:`Scan.files`) once everything but their contents is found right (before they are read)."""
    if folder.is_symlink():
        raise InputError("is a symbolic link; hw10 never writes through one: give the real folder", file=str(folder))
    if not folder.exists():
        return [], ()
    if not folder.is_dir():
        raise InputError("exists and is not a folder", file=str(folder))
    try:
        found = scan(folder)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", file=str(folder)) from None
    if not (found.files or found.dirs or found.links or found.other):
        return [], _fingerprint_of(found)
    if MANIFEST not in found.files:
        raise InputError(f"holds files hw10 did not write ({_listing([*found.files, *found.links, *found.other])}; "
                         "hw10 writes into a new or empty folder, or one it filled before): choose another --out",
                         file=str(folder))
    entries = read_manifest(folder)
    by_path = {e.path: e for e in entries}
    listed_dirs = _all_folders([e.path for e in entries])
    problems = []
    if found.links:
        problems.append(f"symbolic links (never followed): {_listing(found.links)}")
    foreign = [f for f in found.files if f != MANIFEST and f not in by_path] + found.other
    foreign += [d for d in found.dirs if d not in listed_dirs]
    if foreign:
        problems.append(f"files hw10 did not write: {_listing(foreign)}")
    edited = [p for p, st in found.files.items() if p in by_path and st[0] != by_path[p].size]
    if listed is not None and not problems and not edited:
        listed(entries, found.files)
    if read_files:
        edited += edited_files(folder, [by_path[p] for p, st in found.files.items()
                                        if p in by_path and st[0] == by_path[p].size], found.files)
    if edited:
        problems.append(_edited(edited))
    if problems:
        raise InputError(_refusal(problems), file=str(folder))
    return entries, _fingerprint_of(found)


_READ_EARLIER = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
"""How an earlier output's file is opened to be read: never through a link, never blocking on something (a FIFO)
that took its place."""


def edited_files(folder: Path | str, entries: Iterable[Entry], scanned: dict | None = None) -> list[str]:
    """The paths of ``entries`` whose file in ``folder`` no longer has the recorded SHA-256, cannot be read, is not a
    regular file any more or (with ``scanned``, :attr:`Scan.files`) is another file than the one scanned under that
    path (a file that is gone is not edited: there is nothing of anyone's to lose). Never through a link."""
    edited = []
    base = os.path.join(folder, "")
    for e in entries:
        try:
            fd = os.open(base + e.path if os.sep == "/" else os.path.join(base, *e.path.split("/")), _READ_EARLIER)
        except FileNotFoundError:
            continue
        except OSError:
            edited.append(e.path)
            continue
        try:
            st = os.fstat(fd)
            as_scanned = scanned is None or scanned.get(e.path, (0, 0, st.st_ino))[2] == st.st_ino
            same = stat.S_ISREG(st.st_mode) and as_scanned and _fd_sha256(fd, st.st_size) == e.sha256
        except OSError:
            same = False
        finally:
            os.close(fd)
        if not same:
            edited.append(e.path)
    return edited


def _edited(paths: list[str]) -> str:
    return f"files changed since hw10 wrote them: {_listing(paths)}"


def _refusal(problems: list[str]) -> str:
    return "cannot be replaced: it holds " + "; ".join(problems) + ". Move them away or choose another --out"


def fingerprint(folder: Path, *, shared: bool = False) -> tuple:
    """What ``folder`` holds, without reading a file: every entry with its type, size, modification time and inode
    (``()`` for a missing folder). Cheap enough to ask twice: a changed fingerprint means someone wrote there.
    ``shared``: the files' stats are shared with a forked process when there are many (:func:`scan`)."""
    if not folder.exists() and not folder.is_symlink():
        return ()
    try:
        found = scan(folder, shared=shared)
    except OSError:
        return ("unreadable",)
    return _fingerprint_of(found)


def _fingerprint_of(found: Scan) -> tuple:
    """A digest of what :func:`fingerprint` describes (32 bytes to keep through a run, not one tuple per file)."""
    h = hashlib.sha256()
    files = sorted(found.files.items())
    for k in range(0, len(files), _FINGERPRINT_BLOCK):  # in blocks: 200,000 entries' text never held at once
        h.update("".join([f"f{len(p)}:{p}{size},{mtime},{inode};" for p, (size, mtime, inode, _)
                          in files[k:k + _FINGERPRINT_BLOCK]]).encode("utf-8", "surrogateescape"))
    for kind, names in (("d", found.dirs), ("l", found.links), ("o", found.other)):
        h.update("".join([f"{kind}{len(name)}:{name};" for name in sorted(names)]).encode("utf-8", "surrogateescape"))
    return ("scan", h.hexdigest())


_FINGERPRINT_BLOCK = 10_000


def file_sha256(path: Path | str) -> str:
    """The hex SHA-256 of the file at ``path``, read in 1 MiB blocks."""
    fd = os.open(path, os.O_RDONLY)  # not open(): a feedback page is one read, and a rerun hashes 200,000 of them
    try:
        return _fd_sha256(fd)
    finally:
        os.close(fd)


def _fd_sha256(fd: int, size: int = -1) -> str:
    """The hex SHA-256 of what is left to read of ``fd``; ``size``, when known, lets a small file be one read (a
    regular file reads short only at its end: asking one byte more tells the end without a second call)."""
    if 0 <= size < 1 << 20:
        first = os.read(fd, size + 1)
        if len(first) <= size:
            return hashlib.sha256(first).hexdigest()
        h = hashlib.sha256(first)  # it grew since: the rest as any file's
    else:
        h = hashlib.sha256()
    for block in iter(lambda: os.read(fd, 1 << 20), b""):
        h.update(block)
    return h.hexdigest()


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


def _entries_report(entries: list[Entry], checked: bool = False) -> bytes:
    """A writer process's entries for :meth:`OutputFolder._adopt` (or the checking process's listing of an earlier
    output), compact (100,000 students' 200,000 files: a JSON list of lists took 0.5 s to write and read back): a
    JSON header line, then the sizes (8 bytes each), the SHA-256s (64 hex digits each) and the paths, NUL-separated
    (no path holds a NUL)."""
    head = json.dumps({"n": len(entries), "checked": checked}).encode("utf-8") + b"\n"
    sizes = array("q", [e.size for e in entries]).tobytes()
    shas = "".join([e.sha256 for e in entries]).encode("ascii")
    paths = "\0".join([e.path for e in entries]).encode("utf-8", "surrogateescape")
    return head + sizes + shas + paths


def _read_whole(fd: int) -> bytes:
    """Everything in the file ``fd`` from its start (not moving its offset)."""
    size = os.fstat(fd).st_size
    parts, at = [], 0
    while at < size:
        part = os.pread(fd, size - at, at)
        if not part:
            break
        parts.append(part)
        at += len(part)
    return b"".join(parts)


def _read_entries(body: bytes, n: int) -> list[Entry]:
    """The entries :func:`_entries_report` wrote (after its header line); a RuntimeError when ``body`` is not ``n``
    of them."""
    paths, sizes, shas = _unpacked(body, n)
    return list(map(Entry._make, zip(paths, sizes, [shas[i:i + 64] for i in range(0, 64 * n, 64)])))


def _unpacked(body: bytes, n: int) -> tuple[list[str], array, str]:
    """The paths, sizes and SHA-256s (hex, one after another) in an :func:`_entries_report` body of ``n`` entries; a
    RuntimeError when it is not that."""
    sizes = array("q")
    sizes.frombytes(body[:8 * n])
    shas = body[8 * n:72 * n].decode("ascii", "replace")
    paths = body[72 * n:].decode("utf-8", "surrogateescape").split("\0") if n else []
    if len(sizes) != n or len(shas) != 64 * n or len(paths) != n:
        raise RuntimeError("a report of files written or found is cut short")
    return paths, sizes, shas


def manifest_text(entries: list[Entry], meta: dict) -> str:
    """The manifest: one file per line (sorted), then ``meta`` (what produced the folder)."""
    return "".join(manifest_pieces(entries, meta))


def manifest_pieces(entries: list[Entry], meta: dict) -> Iterator[str]:
    """:func:`manifest_text` piece by piece, to write without holding it (25 MB for 100,000 students). Each line is
    what ``json.dumps`` of the entry's dict gives, written without building the dict."""
    path = json.encoder.encode_basestring  # the str encoder json.dumps(..., ensure_ascii=False) uses
    yield f'{{"format": "{FORMAT}", "files": [\n'
    sep = ""
    for e in sorted(entries, key=lambda e: e.path):
        yield f'{sep}{{"path": {path(e.path)}, "size": {e.size:d}, "sha256": {path(e.sha256)}}}'
        sep = ",\n"
    yield "\n],\n" + f'"meta": {json.dumps(meta, ensure_ascii=False, sort_keys=True)}}}\n'


def read_meta(folder: Path) -> dict:
    """The ``meta`` of an hw10 folder's manifest, after checking that every listed file is as hw10 wrote it and
    nothing foreign lies there (:func:`check_replaceable`); an :class:`InputError` otherwise."""
    entries = check_replaceable(folder)
    if not entries:
        raise InputError("is not a folder hw10 filled (no .hw10-manifest.json)", file=str(folder))
    doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    meta = doc.get("meta")
    return meta if isinstance(meta, dict) else {}


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


def remove_listed(folder: Path, paths: list[str], *, shared: bool = False) -> None:
    """Delete the files ``paths`` (relative, as a manifest lists them) and the manifest from ``folder`` (links
    unlinked, never followed), then the folders they leave empty; ``shared``: with a forked process when there are
    many (:func:`_in_halves`). Every deletion goes through the descriptor of a folder opened without following links
    (:func:`_unlinks_at`): a folder of the old output replaced by a link meanwhile leads nowhere. Anything else is
    left where it is."""
    try:
        root = os.open(folder, _DIR_FLAGS)
    except OSError:
        return  # gone, or a link put in its place: nothing of it is ours to delete
    try:
        work = functools.partial(_unlinks_at, root)
        if shared:
            _in_halves(work, [*paths, MANIFEST])
        else:
            work([*paths, MANIFEST])
        folders = _Folders(root)
        try:
            for d in sorted(_all_folders(paths), key=lambda d: -d.count("/")):
                parent, _, name = d.rpartition("/")
                fd = folders.fd(parent)
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.rmdir(name, dir_fd=fd)
        finally:
            folders.close()
    finally:
        os.close(root)
    with contextlib.suppress(OSError):
        os.rmdir(folder)  # only if empty; a link in its place is not a folder and stays


def _folders(rel: str) -> list[str]:
    """The folders a ``/``-separated relative path lies in (``a/b/c`` → ``a``, ``a/b``)."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]


def _all_folders(paths: list[str]) -> set[str]:
    """The folders any of ``paths`` lies in (worked out once per distinct parent: 200,000 pages share one)."""
    parents = {p.rpartition("/")[0] for p in paths}
    return {d for parent in parents if parent for d in _folders(parent + "/")}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
