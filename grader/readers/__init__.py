"""Readers for submissions: NTU COOL Student Analysis CSV, plain letters CSV, one student's YAML/JSON."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..spec import QuestionBank
from ..submissions import Roster
from .csvfile import open_table
from .ntucool import looks_like_ntucool, read_ntucool
from .pins import MatchPins, load_pins
from .plain import looks_like_plain, read_plain_csv, read_single

FORMATS = ("auto", "ntucool", "plain-csv", "single")


def read_submissions(path: Path | str, bank: QuestionBank, fmt: str = "auto",
                     pins: MatchPins | None = None) -> Roster:
    """Read any supported submissions file; ``fmt='auto'`` detects the format from its content."""
    path = Path(path)
    pins = pins or MatchPins()
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt == "single" or (fmt == "auto" and path.suffix.lower() in (".yaml", ".yml", ".json")):
        return read_single(path, bank)
    table = open_table(path)  # rows are read as they are used: never the whole file in memory
    if fmt == "plain-csv" and looks_like_ntucool(table.header) and not looks_like_plain(table.header):
        raise InputError("--format plain-csv, but this is an NTU COOL Student Analysis export: use --format auto "
                         "(or ntucool)", file=str(path), row=1)
    if fmt == "ntucool" and looks_like_plain(table.header) and not looks_like_ntucool(table.header):
        raise InputError("--format ntucool, but this is a plain CSV (id, q01 … q12): use --format auto (or "
                         "plain-csv)", file=str(path), row=1)
    if fmt == "ntucool" or (fmt == "auto" and looks_like_ntucool(table.header)):
        return read_ntucool(table, bank, pins)
    if fmt == "plain-csv" or (fmt == "auto" and looks_like_plain(table.header)):
        return read_plain_csv(table.whole(), bank)
    raise InputError("not a recognised submissions file: expected an NTU COOL Student Analysis export "
                     "(columns 'id' and '<number>: <question>') or a CSV with columns id, q01 … q12",
                     file=str(path), row=1)


__all__ = ["read_submissions", "load_pins", "MatchPins", "FORMATS"]
