"""Reading a CSV-like file the way TAs actually have them: BOM, Excel's Big5/cp950, UTF-16 TSV."""
from __future__ import annotations

import codecs
import csv
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import InputError


@dataclass(frozen=True)
class Table:
    """A decoded CSV: header plus rows, each with its 1-based record number (header = row 1)."""

    path: str
    encoding: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


_ATTEMPT = re.compile(r"\d{1,6}(\.0*)?")


def parse_attempt(text: str, file: str, row: int, column: str) -> int:
    """An attempt number as NTU COOL writes it (``2``, or ``2.0`` after a spreadsheet); anything else (``inf``,
    ``1e400``, 5,000 digits, ``-1``) is an :class:`InputError` naming the cell."""
    t = text.strip()
    if not _ATTEMPT.fullmatch(t):
        raise InputError(f"attempt {t[:40]!r} is not an attempt number (1, 2, …)", file=file, row=row, column=column)
    return int(t.split(".")[0])


BIG5_RARE_MAX = 0.3
"""Largest share of Big5 level-2 ("less frequent") characters a real Big5 export has. The 5,401 level-1
characters (lead bytes 0xA4-0xC6) cover well over 99 % of running Chinese text, names included; a Western file
(Windows-1252: ü é ö à are bytes 0xE0-0xFF) misread as Big5 is mostly level 2 and beyond."""


CHUNK = 1 << 20
"""Bytes read at a time: a 100,000-student export (160 MB) is never held whole, as bytes or as text."""


def _chunks(path: str, skip: int = 0):
    with open(path, "rb") as f:
        f.seek(skip)
        yield from iter(lambda: f.read(CHUNK), b"")


def detect_encoding(path: str) -> str:
    """The encoding an export is read with (UTF-8, UTF-16/32 by their byte-order mark, else Big5/cp950 as Excel on
    a Taiwanese Windows saves "CSV"), checked over the whole file in blocks; binary files (zip, PDF, a NUL byte),
    undecodable text and a Western file that only decodes as rare Big5 are an :class:`InputError` naming the line."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK\x03\x04"):
        raise InputError("this is a zip/Excel workbook, not a CSV: in NTU COOL download the CSV "
                         "(or in Excel use Save As → CSV UTF-8)", file=path)
    if head.startswith(b"%PDF"):
        raise InputError("this is a PDF, not a CSV export", file=path)
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return _check_decodes(path, "utf-32", 0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _check_decodes(path, "utf-16", 0)
    bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    lines = 1
    decoder = codecs.getincrementaldecoder("utf-8")()
    done = bom
    for block in _chunks(path, bom):
        nul = block.find(b"\x00")
        if nul >= 0:
            raise InputError("binary data (a NUL byte): not a CSV text file", file=path,
                             row=lines + block[:nul].count(b"\n"))
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous block
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            return _legacy(path, lines + block[:max(0, exc.start - pending)].count(b"\n"), done - pending + exc.start)
        done += len(block)
        lines += block.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        legacy = _legacy(path, lines, None)
        if legacy:
            return legacy
        raise InputError("the file ends in the middle of a UTF-8 character: it looks cut off; download or export "
                         "it again", file=path, row=lines) from None
    return "utf-8-sig" if bom else "utf-8"


def _check_decodes(path: str, encoding: str, skip: int) -> str:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for block in _chunks(path, skip):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(f"starts with a {encoding.upper()} byte-order mark but does not decode as "
                         f"{encoding.upper()}", file=path) from None
    return encoding


def _legacy(path: str, line: int, at: int | None) -> str:
    """The Big5 encoding a file that is not UTF-8 decodes as, or an :class:`InputError` (``at``: the offset of the
    first byte that is not UTF-8; None: the file ends inside a UTF-8 character)."""
    for legacy in ("cp950", "big5hkscs"):
        decoder = codecs.getincrementaldecoder(legacy)()
        cjk = rare = 0
        try:
            for block in _chunks(path):
                text = decoder.decode(block)
                c, r = _cjk_counts(text)
                cjk, rare = cjk + c, rare + r
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if cjk:
            if rare / cjk > BIG5_RARE_MAX:
                raise InputError(f"not UTF-8, and read as Big5 {rare / cjk:.0%} of its Chinese characters are rare "
                                 "ones (Big5 level 2): it is in another encoding (Windows-1252/Latin-1?), and reading "
                                 "it as Big5 would garble names; re-export it as CSV UTF-8", file=path)
            return legacy
    if at is None:
        raise InputError("the file ends in the middle of a UTF-8 character: it looks cut off; download or export "
                         "it again", file=path, row=line)
    with open(path, "rb") as f:
        f.seek(at)
        byte = f.read(1)[0]
    raise InputError(f"not UTF-8 (invalid byte 0x{byte:02x} on line {line}) and not Big5/cp950 "
                     "either; re-export it as CSV UTF-8", file=path, row=line)


_CJK = re.compile("[\u4e00-\u9fff]")


def _cjk_counts(text: str) -> tuple[int, int]:
    """(CJK characters, those outside Big5 level 1) in ``text``."""
    found = _CJK.findall(text)
    rare = 0
    for ch in found:
        try:
            lead = ch.encode("cp950")[0]
        except UnicodeEncodeError:
            lead = 0xFF
        rare += not 0xA4 <= lead <= 0xC6
    return len(found), rare


@dataclass
class TableStream:
    """A CSV export read row by row (never whole): its header, and its data rows once, in file order, each with its
    record number (header = 1). Blank rows are skipped; a row with too few or too many cells is an
    :class:`InputError` when it is reached."""

    path: str
    encoding: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]

    def whole(self) -> Table:
        """The rest of the rows read into a :class:`Table` (for small files, e.g. a plain answers CSV)."""
        return Table(self.path, self.encoding, self.header, list(self.rows))


def open_table(path: Path | str) -> TableStream:
    """Open an export as a :class:`TableStream`: encoding checked over the whole file (:func:`detect_encoding`),
    delimiter guessed from the header line (comma, tab or semicolon)."""
    p = str(path)
    try:
        if Path(p).is_dir():
            raise InputError("is a folder, expected a CSV file", file=p)
        encoding = detect_encoding(p)
        records = _records(p, encoding)
        first = next(records, None)
    except FileNotFoundError:
        raise InputError("file not found", file=p) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=p) from None
    if first is None:
        raise InputError("the file is empty", file=p)
    header = [h.strip() for h in first[1]]
    return TableStream(p, encoding, header, _checked(records, header, p))


def _records(path: str, encoding: str):
    """Yield (record number, cells) of every CSV record, the header first; the header line chooses the delimiter.
    A second byte-order mark (a file saved twice) would hide the first column: it is dropped."""
    with open(path, encoding=encoding, newline="") as f:
        lines = iter(f)
        first_line = next(lines, "").lstrip("\ufeff")
        if not first_line.strip():
            if all(not line.strip() for line in lines):
                return  # nothing but blank lines: an empty file
            raise InputError("the first line is blank: no comma- or tab-separated header found", file=path, row=1)
        delimiter = max((",", "\t", ";"), key=first_line.count)
        if first_line.count(delimiter) == 0:
            raise InputError("no comma- or tab-separated header found: not a CSV export", file=path, row=1)
        reader = csv.reader(itertools.chain([first_line], lines), delimiter=delimiter, strict=True)
        n = 0
        try:
            for n, rec in enumerate(reader, start=1):
                yield n, rec
        except (UnicodeDecodeError, OSError) as exc:  # the file was checked whole before: it changed, or the disk
            raise InputError(f"could not be read to the end ({type(exc).__name__}): did it change while hw10 read "
                             "it? Run again on a file nothing is writing", file=path, row=n + 1) from None
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise InputError(f"a cell longer than {csv.field_size_limit():,} characters: no answer is that long; "
                                 "a quote (\") opened here is never closed, or this is not an export", file=path,
                                 row=n + 1) from None
            raise InputError(f"broken CSV quoting: {exc}", file=path, row=n + 1) from None


def _checked(records, header: list[str], path: str):
    """The data rows of ``records`` without blank ones, each checked against the header's width (one row of
    look-ahead: a short last row means a cut-off file)."""
    width = len(header)
    held = None
    for i, r in records:
        if not any(c.strip() for c in r):
            continue
        if len(r) > width and any(c.strip() for c in r[width:]):
            raise InputError(f"row has {len(r)} cells but the header has {width} (an unquoted comma?)", file=path,
                             row=i)
        if held is not None:
            yield _width_checked(held, header, path, last=False)
        held = (i, r)
    if held is not None:
        yield _width_checked(held, header, path, last=True)


def _width_checked(rec: tuple[int, list[str]], header: list[str], path: str, last: bool) -> tuple[int, list[str]]:
    i, r = rec
    if len(r) < len(header):
        # never grade a broken row as if the missing cells were blank answers
        cut = "; it is the last row: the file looks cut off" if last else ""
        raise InputError(f"row has {len(r)} cells but the header has {len(header)} (cells missing from column "
                         f"{len(r) + 1}, {header[len(r)]!r}, on){cut} — download or export the file again "
                         "(a hand-made CSV needs every column, empty cells included)", file=path, row=i)
    return rec
