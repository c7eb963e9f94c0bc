"""The manifest every folder hw10 fills holds (``.hw10-manifest.json``, format ``hw10-output/1``): one
:class:`Entry` per file hw10 wrote (path, size, SHA-256); how a manifest is read and checked to list only files hw10
writes (:func:`read_manifest`), how it is written (:func:`manifest_text`: sorted, the same bytes for the same files),
the SHA-256 an entry records (:func:`file_sha256`) and the folders its paths lie in.

A part of :mod:`grader.outfolder`, whose docstring holds the output-folder rule. Nothing here prints.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from operator import itemgetter
from pathlib import Path
from typing import Iterator, NamedTuple

from ..errors import InputError

MANIFEST = ".hw10-manifest.json"
FORMAT = "hw10-output/1"
MANIFEST_MAX_BYTES = 256 * 1024 * 1024
"""A manifest larger than this is not one hw10 wrote (100,000 students' files take ~25 MB)."""


class Entry(NamedTuple):
    """One file hw10 wrote, as the manifest records it (a named tuple: a writer process's 100,000 of them are made
    in C, :func:`_read_entries`)."""

    path: str
    """Relative to the folder, ``/``-separated."""
    size: int
    sha256: str


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


def _folders(rel: str) -> list[str]:
    """The folders a ``/``-separated relative path lies in (``a/b/c`` → ``a``, ``a/b``)."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]


def _all_folders(paths: list[str]) -> set[str]:
    """The folders any of ``paths`` lies in (worked out once per distinct parent: 200,000 pages share one)."""
    parents = {p.rpartition("/")[0] for p in paths}
    return {d for parent in parents if parent for d in _folders(parent + "/")}
