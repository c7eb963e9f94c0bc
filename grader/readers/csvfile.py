"""Reading a CSV-like file the way TAs actually have them: BOM, Excel's Big5/cp950, UTF-16 TSV."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

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


def _rare_big5_share(text: str) -> float:
    """Share of the CJK characters of ``text`` outside Big5 level 1."""
    cjk = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if not cjk:
        return 0.0
    rare = 0
    for ch in cjk:
        try:
            lead = ch.encode("cp950")[0]
        except UnicodeEncodeError:
            lead = 0xFF
        rare += not 0xA4 <= lead <= 0xC6
    return rare / len(cjk)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def decode_bytes(data: bytes, path: str) -> tuple[str, str]:
    """Return (text, encoding name). Refuse binary files and undecodable text, naming the encoding."""
    if data.startswith(b"PK\x03\x04"):
        raise InputError("this is a zip/Excel workbook, not a CSV: in NTU COOL download the CSV "
                         "(or in Excel use Save As → CSV UTF-8)", file=path)
    if data.startswith(b"%PDF"):
        raise InputError("this is a PDF, not a CSV export", file=path)
    bom = 0
    if data.startswith(b"\xef\xbb\xbf"):
        enc, bom = "utf-8-sig", 3
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        enc = "utf-32"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    else:
        enc = "utf-8"
    if not enc.startswith("utf-16") and enc != "utf-32":
        nul = data.find(b"\x00")
        if nul >= 0:
            raise InputError("binary data (a NUL byte): not a CSV text file", file=path,
                             row=data[:nul].count(b"\n") + 1)
    try:
        return data.decode(enc).lstrip("\ufeff"), enc  # a second BOM (a file saved twice) would hide the 1st column
    except UnicodeDecodeError as exc:
        first = exc
        if enc in ("utf-16", "utf-32"):
            raise InputError(f"starts with a {enc.upper()} byte-order mark but does not decode as {enc.upper()}",
                             file=path) from None
    # Excel on a Taiwanese Windows machine saves "CSV" as cp950 (Big5 with Microsoft's extensions).
    for legacy in ("cp950", "big5hkscs"):
        try:
            text = data.decode(legacy)
        except UnicodeDecodeError:
            continue
        if _has_cjk(text):
            rare = _rare_big5_share(text)
            if rare > BIG5_RARE_MAX:
                raise InputError(f"not UTF-8, and read as Big5 {rare:.0%} of its Chinese characters are rare ones "
                                 "(Big5 level 2): it is in another encoding (Windows-1252/Latin-1?), and reading it "
                                 "as Big5 would garble names; re-export it as CSV UTF-8", file=path)
            return text, legacy
    at = first.start + bom  # the utf-8-sig decoder counts from after the byte-order mark
    line = data[:at].count(b"\n") + 1
    if first.end >= len(data) - bom and "unexpected end" in str(first.reason):
        raise InputError("the file ends in the middle of a UTF-8 character: it looks cut off; download or export "
                         "it again", file=path, row=line)
    raise InputError(f"not UTF-8 (invalid byte 0x{data[at]:02x} on line {line}) and not Big5/cp950 "
                     "either; re-export it as CSV UTF-8", file=path, row=line)


def read_table(path: Path | str) -> Table:
    """Read an export as a :class:`Table`: decoded (UTF-8, else Big5/cp950), delimiter guessed from the header line
    (comma, tab or semicolon), blank rows dropped; unreadable files and rows with too few or too many cells are an
    :class:`InputError`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=str(p)) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a CSV file", file=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(p)) from None
    text, enc = decode_bytes(data, str(p))
    if not text.strip():
        raise InputError("the file is empty", file=str(p))
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    if first_line.count(delimiter) == 0:
        raise InputError("no comma- or tab-separated header found: not a CSV export", file=str(p), row=1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    try:
        for i, rec in enumerate(reader, start=1):
            records.append((i, rec))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputError(f"a cell longer than {csv.field_size_limit():,} characters: no answer is that long; a "
                             "quote (\") opened here is never closed, or this is not an export", file=str(p),
                             row=len(records) + 1) from None
        raise InputError(f"broken CSV quoting: {exc}", file=str(p), row=len(records) + 1) from None
    header = [h.strip() for h in records[0][1]]
    rows = [(i, r) for i, r in records[1:] if any(c.strip() for c in r)]
    for i, r in rows:
        if len(r) > len(header):
            extra = [c for c in r[len(header):] if c.strip()]
            if extra:
                raise InputError(f"row has {len(r)} cells but the header has {len(header)} "
                                 "(an unquoted comma?)", file=str(p), row=i)
        elif len(r) < len(header):
            # never grade a broken row as if the missing cells were blank answers
            last = "; it is the last row: the file looks cut off" if i == rows[-1][0] else ""
            raise InputError(f"row has {len(r)} cells but the header has {len(header)} (cells missing from column "
                             f"{len(r) + 1}, {header[len(r)]!r}, on){last} — download or export the file again "
                             "(a hand-made CSV needs every column, empty cells included)", file=str(p), row=i)
    return Table(str(p), enc, header, rows)
