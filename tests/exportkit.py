"""Build NTU COOL "Student Analysis" exports for tests, the way Canvas writes them."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from grader.spec import QuestionBank

INFO = ["name", "id", "sis_id", "root_account", "section", "section_id", "section_sis_id", "submitted", "attempt"]


@dataclass
class Row:
    id: str
    name: str = "student"
    section: str = "S1"
    attempt: int | None = 1
    answers: dict[str, list[str]] = field(default_factory=dict)
    """Letters per question (absent = blank)."""
    raw: dict[str, str] = field(default_factory=dict)
    """Exact cell text per question, overriding ``answers``."""


def cell_for(bank: QuestionBank, qid: str, letters: list[str], escape: bool = True,
             texts: dict[str, dict[str, str]] | None = None) -> str:
    spec = bank[qid]
    opt = (texts or {}).get(qid) or {o.id: o.text for o in spec.options}
    chosen = [opt[x] for x in letters]
    if spec.kind == "single":
        return chosen[0] if len(chosen) == 1 else ",".join(chosen)
    return ",".join(t.replace(",", "\\,") if escape else t for t in chosen)


def export_text(bank: QuestionBank, rows: list[Row], *, order: list[str] | None = None,
                info: list[str] | None = None, question_texts: dict[str, str] | None = None,
                choice_texts: dict[str, dict[str, str]] | None = None, escape: bool = True,
                drop: tuple[str, ...] = ()) -> str:
    """CSV text (no BOM) of an export; ``drop`` leaves questions out, ``order`` permutes columns."""
    info = info or INFO
    order = [q for q in (order or bank.ids) if q not in drop]
    header = list(info)
    for q in order:
        text = (question_texts or {}).get(q, bank[q].stem)
        header += [f"{700000 + int(q[1:])}: {text}", str(float(bank[q].points_exact))]
    header += ["n correct", "n incorrect", "score"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        values = {"name": r.name, "id": r.id, "sis_id": f"s{r.id}", "root_account": "ntu", "section": r.section,
                  "section_id": "1", "section_sis_id": "", "submitted": "2026-01-05 10:00:00 UTC",
                  "attempt": "" if r.attempt is None else str(r.attempt)}
        line = [values[c.lower()] for c in info]
        for q in order:
            if q in r.raw:
                cell = r.raw[q]
            elif r.answers.get(q):
                cell = cell_for(bank, q, r.answers[q], escape, choice_texts)
            else:
                cell = ""
            line += [cell, ""]
        line += ["0", "0", "0"]
        w.writerow(line)
    return buf.getvalue()


def write_export(path, bank: QuestionBank, rows: list[Row], *, encoding: str = "utf-8", bom: bool = True,
                 **kwargs) -> None:
    text = export_text(bank, rows, **kwargs)
    data = text.encode(encoding)
    if bom and encoding == "utf-8":
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)
