"""An earlier output and whether hw10 may replace it: what a folder holds (:func:`scan`: links listed, never
followed), the check against its manifest (:func:`check_replaceable`: nothing hw10 did not write, nothing edited
since, no link), the comparison of its files with the SHA-256s recorded (:func:`edited_files`), its
:func:`fingerprint` (has anyone written there since it was checked), the process that runs the whole check in the
background while a rerun works (:func:`_start_checker`), and the ``meta`` of a folder so checked (:func:`read_meta`).

A part of :mod:`grader.outfolder`, whose docstring holds the output-folder rule. Nothing here prints.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, NamedTuple

from ..errors import InputError
from ..onefile import READ_NO_FOLLOW
from .manifest import MANIFEST, Entry, _all_folders, _fd_sha256, read_manifest
from .processes import _entries_report, _in_halves, _nameless_file

_SHOWN = 5


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


def _listing(names: Iterable[str]) -> str:
    names = sorted(names)
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" … ({len(names)} in all)" if len(names) > _SHOWN else "")


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


_READ_EARLIER = READ_NO_FOLLOW
"""How an earlier output's file is opened to be read (:data:`grader.onefile.READ_NO_FOLLOW`)."""


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


def read_meta(folder: Path) -> dict:
    """The ``meta`` of an hw10 folder's manifest, after checking that every listed file is as hw10 wrote it and
    nothing foreign lies there (:func:`check_replaceable`); an :class:`InputError` otherwise."""
    entries = check_replaceable(folder)
    if not entries:
        raise InputError("is not a folder hw10 filled (no .hw10-manifest.json)", file=str(folder))
    doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    meta = doc.get("meta")
    return meta if isinstance(meta, dict) else {}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
