"""The processes :mod:`grader.outfolder` shares its work with (forked, Linux): a list's work done in two halves at
once (:func:`_in_halves`, from :data:`SHARED_FROM` items on), the ticket pipe from which writer processes take the
next chunk (:func:`_claimed`, at most :data:`MAX_CHUNKS`), and the compact report of entries a writer process or the
checking process sends back (:func:`_entries_report`, read back by :func:`_read_entries` and :func:`_unpacked`),
through a pipe or a file without a name (:func:`_nameless_file`).

A part of :mod:`grader.outfolder`, whose docstring holds the output-folder rule. Nothing here prints.
"""
from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import tempfile
from array import array
from typing import Callable, Iterator

from .manifest import Entry

_TICKET = 4
"""Bytes per chunk number in :meth:`OutputFolder.write_parts`' ticket pipe (a read of 4 bytes is never split)."""
MAX_CHUNKS = 1024
"""Most chunks :meth:`OutputFolder.write_parts` hands out: their tickets (4 KiB) fit any pipe's buffer (one page,
what Linux gives a pipe when a user's pipe memory is at its limit), written at once."""


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


def _claimed(tickets: int) -> Iterator[int]:
    """The chunk numbers this process takes from the ticket pipe, one at a time, until none is left."""
    while True:
        ticket = os.read(tickets, _TICKET)
        if not ticket:
            return
        if len(ticket) != _TICKET:
            raise RuntimeError("a chunk ticket was split")  # impossible: tickets are written at once, read whole
        yield int.from_bytes(ticket, "little")


def _nameless_file() -> int:
    """A file descriptor of a new file without a name (in memory where Linux allows), gone when closed."""
    with contextlib.suppress(AttributeError, OSError):
        return os.memfd_create("hw10-listing", os.MFD_CLOEXEC)
    with tempfile.TemporaryFile() as f:
        return os.dup(f.fileno())


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
