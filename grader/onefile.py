"""One output file written as hw10 writes folders (:mod:`grader.outfolder`): never over a file hw10 did not write,
never through a planted link, all or nothing.

* :func:`write_new` creates ``path`` only if nothing is there: the bytes go to a temporary file created exclusively
  (``mkstemp``: ``O_EXCL``, a random name) in ``path``'s own folder, which is then *linked* to ``path`` (``link``
  fails on an existing name, so a file or link that appeared meanwhile is never replaced) and unlinked; where the
  file system has no hard links, ``path`` is created with ``O_EXCL`` and written. Used by ``hw10 review`` (the
  reviewed key) and ``hw10 fetch`` (the export, mode 0600).
* :func:`replace_checked` replaces an existing ``path`` that the caller has checked is hw10's to replace (e.g. a
  key ``hw10 key`` computed earlier), only if it is still the very file checked (same inode, size and time).
* :func:`read_regular` reads an input without following a link or blocking on a FIFO.

Errors are :class:`grader.errors.InputError` naming the file (exit 2). Nothing here prints.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import InputError

READ_NO_FOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
"""How hw10 opens a file to read that someone else may have replaced: never through a symbolic link, never blocking
on something (a FIFO, a device) that took its place; the caller then checks it is a regular file."""

__all__ = ["read_regular", "replace_checked", "same_file", "write_new"]

_NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV)
"""``link`` errors meaning this file system has no hard links (FAT, some network shares)."""


def _temporary(path: Path, data: bytes, mode: int | None = None) -> str:
    """A new file beside ``path`` holding ``data`` (created exclusively; ``mode``, else as a new file gets); its
    path."""
    parent = path.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.hw10-", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise InputError(f"cannot write here ({exc.strerror})", file=str(path)) from None
    try:
        if mode is None:
            mask = os.umask(0)
            os.umask(mask)
            mode = 0o666 & ~mask  # mkstemp's 0600 is for secrets; this is a TA's file
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        os.close(fd)
        os.unlink(tmp)
        raise InputError(f"cannot write ({exc.strerror}); nothing was written", file=str(path)) from None
    os.close(fd)
    return tmp


def _create_exclusive(path: Path, data: bytes, mode: int | None) -> None:
    """``path`` created new (``O_EXCL``, no link followed) and written: where a file system has no hard links."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                 0o666 if mode is None else mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_new(path: Path | str, data: bytes, *, what: str = "it", advice: str | None = None,
              mode: int | None = None, replace: bool = False) -> None:
    """Create ``path`` holding ``data``, all or nothing; an :class:`InputError` when anything (a file, a folder, a
    link, even a dangling one) is already there or appears meanwhile (``advice`` says what to do; by default: write
    ``what`` to a new file). ``mode``: the new file's permissions (e.g. ``0o600`` for students' data; default as
    any new file). ``replace`` (a TA's explicit ``--force``): replace whatever entry is there, the entry itself —
    a link is replaced, never followed."""
    path = Path(path)
    advice = advice or f"write {what} to a new file (or remove this one yourself)"
    if not replace and os.path.lexists(path):
        raise InputError(f"already exists: hw10 never replaces a file it did not write; {advice}", file=str(path))
    tmp = _temporary(path, data, mode)
    try:
        if replace:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            _create_exclusive(path, data, mode)  # no hard links here: created new, never over anything
    except FileExistsError:
        raise InputError(f"appeared while hw10 was writing; nothing was replaced: {advice}", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror}); nothing was written", file=str(path)) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def same_file(path: Path | str) -> tuple[int, int, int, int] | None:
    """What identifies ``path`` as the file checked (device, inode, size, modification time), without following a
    link; None when nothing is there."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def replace_checked(path: Path | str, data: bytes, checked: tuple[int, int, int, int] | None) -> None:
    """Write ``data`` to ``path`` all or nothing, replacing the file the caller checked (``checked``: its
    :func:`same_file` then; ``None``: nothing was there, :func:`write_new`). An :class:`InputError` when ``path``
    changed since (another file or a link put there)."""
    path = Path(path)
    if checked is None:
        write_new(path, data)
        return
    tmp = _temporary(path, data)
    try:
        if same_file(path) != checked:
            raise InputError("changed since hw10 checked it; nothing was replaced, run again", file=str(path))
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror}); nothing was replaced", file=str(path)) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def read_regular(path: Path | str, *, limit: int = 1 << 30) -> bytes:
    """The bytes of the regular file ``path``, never through a symbolic link nor blocking on a FIFO or device; an
    :class:`InputError` naming it otherwise or when it is larger than ``limit``."""
    try:
        fd = os.open(path, READ_NO_FOLLOW)
    except OSError as exc:
        why = "is a symbolic link (never followed)" if exc.errno == errno.ELOOP else f"cannot be read ({exc.strerror})"
        raise InputError(why, file=str(path)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError("is not a regular file", file=str(path))
        if st.st_size > limit:
            raise InputError(f"is larger than {limit} bytes", file=str(path))
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > limit:
                raise InputError(f"is larger than {limit} bytes", file=str(path))
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", file=str(path)) from None
    finally:
        os.close(fd)
