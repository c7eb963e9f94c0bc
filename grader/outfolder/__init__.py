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

The parts, each importing only those listed before it:

* :mod:`.manifest`: the manifest (its format, entries, reading and checking them, writing it) and a file's SHA-256;
* :mod:`.processes`: work shared with forked processes (halves, the writers' ticket pipe, the entries they report);
* :mod:`.check`: an earlier output (scan, check, fingerprint, edited files, the background checking process);
* :mod:`.swap`: deleting the previous output after the swap, through directory descriptors;
* :mod:`.folder`: :class:`OutputFolder`, :func:`refuse_inputs_inside`, :func:`add_file`.

Everything a caller uses is imported from here; a test that changes a setting or a function changes it in the part
that reads it (``monkeypatch.setattr(outfolder.processes, "SHARED_FROM", 2)``).
"""
from __future__ import annotations

from ..errors import InputError
from . import check, folder, manifest, processes, swap
from .check import Scan, check_replaceable, edited_files, fingerprint, read_meta, scan
from .folder import OutputFolder, add_file, refuse_inputs_inside
from .manifest import (
    FORMAT,
    MANIFEST,
    MANIFEST_MAX_BYTES,
    Entry,
    file_sha256,
    manifest_pieces,
    manifest_text,
    read_manifest,
)
from .manifest import _entries_whole as _entries_whole  # the tests check the manifest's two readings against each other
from .processes import MAX_CHUNKS, SHARED_FROM
from .processes import _in_halves as _in_halves  # the tests fail a forked half on purpose
from .swap import remove_listed

__all__ = ["check", "folder", "manifest", "processes", "swap",
           "FORMAT", "MANIFEST", "MANIFEST_MAX_BYTES", "MAX_CHUNKS", "SHARED_FROM", "Entry", "InputError",
           "OutputFolder", "Scan", "add_file", "check_replaceable", "edited_files", "file_sha256", "fingerprint",
           "manifest_pieces", "manifest_text", "read_manifest", "read_meta", "refuse_inputs_inside", "remove_listed",
           "scan"]
