"""Which reader reads a submissions file: :func:`read_submissions` detects an LMS's quiz export (each registered
LMS's :class:`~grader.lms.base.ExportReader` is asked whether it recognises the header), a plain letters CSV or one
student's YAML/JSON."""
from __future__ import annotations

from pathlib import Path

from grader.errors import InputError
from grader.lms import REGISTRY
from grader.lms.base import LMS
from grader.readers.csvfile import open_table
from grader.readers.pins import MatchPins
from grader.readers.plain import looks_like_plain, read_plain_csv, read_single
from grader.spec import QuestionBank
from grader.submissions import Roster

PLAIN = ("plain-csv", "single")
FORMATS = ("auto", *(lms.export.format for lms in REGISTRY.values()), *PLAIN)
"""``--format``: ``auto``, each LMS's export, a plain letters CSV, one student's file."""


def read_submissions(path: Path | str, bank: QuestionBank, fmt: str = "auto", pins: MatchPins | None = None,
                     lmses: dict[str, LMS] | None = None) -> Roster:
    """Read any supported submissions file; ``fmt='auto'`` detects the format from its content. ``lmses``: the LMSs
    whose exports are recognised (default: :data:`grader.lms.REGISTRY`)."""
    path = Path(path)
    pins = pins or MatchPins()
    readers = {lms.export.format: lms.export for lms in (lmses or REGISTRY).values()}
    formats = ("auto", *readers, *PLAIN)
    if fmt not in formats:
        raise InputError(f"unknown format {fmt!r} (choose from {', '.join(formats)})")
    if fmt == "single" or (fmt == "auto" and path.suffix.lower() in (".yaml", ".yml", ".json")):
        return read_single(path, bank)
    table = open_table(path)  # rows are read as they are used: never the whole file in memory
    export = next((r for r in readers.values() if r.recognises(table.header)), None)
    if fmt == "plain-csv" and export is not None and not looks_like_plain(table.header):
        raise InputError(f"--format plain-csv, but this is an {export.title}: use --format auto (or {export.format})",
                         file=str(path), row=1)
    if fmt in readers and looks_like_plain(table.header) and not readers[fmt].recognises(table.header):
        raise InputError(f"--format {fmt}, but this is a plain CSV (id, {bank.ids[0]} … {bank.ids[-1]}): use --format "
                         "auto (or plain-csv)",
                         file=str(path), row=1)
    if fmt in readers:
        return readers[fmt].read(table, bank, pins)
    if fmt == "auto" and export is not None:
        return export.read(table, bank, pins)
    if fmt == "plain-csv" or (fmt == "auto" and looks_like_plain(table.header)):
        return read_plain_csv(table.whole(), bank)
    exports = " or ".join(f"an {r.title} ({r.columns_hint})" for r in readers.values())
    raise InputError(f"not a recognised submissions file: expected {exports} or a CSV with columns id, "
                     f"{bank.ids[0]} … {bank.ids[-1]}",
                     file=str(path), row=1)
