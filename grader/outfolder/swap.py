"""Deleting the previous output once the new folder has taken its place (:meth:`OutputFolder.commit`'s two renames):
every listed file is unlinked through the descriptor of a folder opened without following a link (:class:`_Folders`),
never by a path resolved again, by two processes when there are thousands (:func:`remove_listed`); then the folders
it leaves empty.

A part of :mod:`grader.outfolder`, whose docstring holds the output-folder rule. Nothing here prints.
"""
from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

from .manifest import MANIFEST, _all_folders
from .processes import _in_halves

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
