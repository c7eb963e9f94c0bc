"""Plain answer files: a CSV ``id,name,[section],q01,…,q12`` with letters, and one student's YAML/JSON."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..key import KEY_FORMAT
from ..safeyaml import check_size, load_json, load_yaml
from ..spec import QuestionBank, QuestionSpec, read_utf8
from ..submissions import CellProblem, Roster, Submission
from .csvfile import Table, parse_attempt

_QCOL = re.compile(r"^q?0*(\d{1,2})$", re.I)


def looks_like_plain(header: list[str]) -> bool:
    """Whether a header is a plain answers CSV: an ``id`` column and at least one ``qNN`` column."""
    lower = [h.strip().lower() for h in header]
    return "id" in lower and any(re.fullmatch(r"q\d\d", h) for h in lower)


# Characters NFKC leaves alone that students type between or around option letters on Chinese keyboards.
_CJK_PUNCTUATION = str.maketrans({"、": ",", "・": ",", "。": ".", "【": "[", "】": "]", "「": '"', "」": '"',
                                  "『": '"', "』": '"', "〔": "(", "〕": ")"})
_SEPARATORS = re.compile(r"[;,/\s|+&]+")
_WRAPPERS = str.maketrans({c: " " for c in "()[]{}<>.\"'"})


def normalise_text(text: str) -> str:
    """NFKC (full-width ``Ｑ０３：Ａ，Ｃ`` → ``Q03:A,C``) plus the CJK punctuation NFKC keeps (``、`` → ``,``)."""
    return unicodedata.normalize("NFKC", text).translate(_CJK_PUNCTUATION)


def question_id(key: Any) -> str | None:
    """``q01`` from ``q01``, ``Q1``, ``1``, ``01`` or ``Ｑ０１``; None when ``key`` is not a question number."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return f"q{key:02d}" if 0 <= key < 100 else None
    m = re.fullmatch(r"q?\s*0*(\d{1,2})", normalise_text(str(key)).strip(), re.I)
    return f"q{int(m.group(1)):02d}" if m else None


def option_tokens(value: Any) -> list[str]:
    """The upper-case tokens of an answer as a student typed it: ``A;C``, ``A、C``, ``Ａ，Ｃ``, ``AC``, ``(b).``,
    ``a c`` or a list; blank → ``[]``. Tokens that are not option letters are kept (the caller says so)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _split(str(v))]
    tokens = _split(str(value))
    if len(tokens) == 1 and re.fullmatch(r"[A-J]{2,}", tokens[0]):
        return list(tokens[0])
    return tokens


def _split(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(normalise_text(text).upper().translate(_WRAPPERS)) if t]


def parse_letters(value: Any, spec: QuestionSpec) -> tuple[tuple[str, ...], str | None]:
    """Letters from ``B``, ``A;C``, ``A,C``, ``AC``, ``a c``, full-width ``Ａ，Ｃ``, ``A、C``, ``(B)``, ``b.`` or a
    list; (letters, problem)."""
    letters = option_tokens(value)
    bad = [x for x in letters if x not in spec.letters]
    good = tuple(sorted({x for x in letters if x in spec.letters}))
    if bad:
        return good, f"not an option of {spec.id} ({''.join(spec.letters)}): {', '.join(bad)}"
    if spec.kind == "single" and len(good) > 1:
        return good, f"several choices ({', '.join(good)}) in a single-answer question; scored by the rule (0)"
    return good, None


def refuse_answer_key(data: Any, file: str) -> None:
    """Raise InputError when ``data`` (a loaded YAML/JSON mapping) is an answer key, not a student's answers."""
    if isinstance(data, dict) and (data.get("format") == KEY_FORMAT
                                   or ("answers" in data and "questions_sha256" in data)):
        raise InputError(f"{file} is an answer key (format {data.get('format') or KEY_FORMAT}), not a student's "
                         "answers; an answer key goes after --key")


def read_plain_csv(table: Table, bank: QuestionBank) -> Roster:
    """The :class:`Roster` of a plain answers CSV (``id, [name], [section], q01 … q12``): one submission per row,
    each cell parsed by :func:`parse_letters`; a missing or repeated question column is an :class:`InputError`."""
    lower = [h.strip().lower() for h in table.header]
    cols: dict[str, int] = {}
    for j, h in enumerate(lower):
        m = _QCOL.match(h)
        if m and h.startswith("q"):
            qid = f"q{int(m.group(1)):02d}"
            if qid not in bank:
                raise InputError(f"the column {table.header[j]!r} names no question of this quiz ({bank.ids[0]} … "
                                 f"{bank.ids[-1]}); remove or rename it", file=table.path, row=1,
                                 column=table.header[j])
            if qid in cols:
                raise InputError(f"two columns for {qid}", file=table.path, row=1, column=table.header[j])
            cols[qid] = j
    missing = [q for q in bank.ids if q not in cols]
    if missing:
        raise InputError(f"no column for {', '.join(missing)}", file=table.path, row=1)
    idx = {n: lower.index(n) for n in ("id", "name", "section", "sis_id", "attempt") if n in lower}
    if "id" not in idx:
        raise InputError(f"no 'id' column: a plain CSV needs the columns id, {bank.ids[0]} … {bank.ids[-1]} (name and "
                         "section optional)",
                         file=table.path, row=1)
    subs: list[Submission] = []
    for rownum, row in table.rows:
        sid = row[idx["id"]].strip()
        if not sid:
            raise InputError("student id is blank", file=table.path, row=rownum, column=table.header[idx["id"]])
        attempt = None
        if "attempt" in idx and row[idx["attempt"]].strip():
            attempt = parse_attempt(row[idx["attempt"]], table.path, rownum, table.header[idx["attempt"]])
        sub = Submission(sid, row[idx["name"]].strip() if "name" in idx else "",
                         row[idx["section"]].strip() if "section" in idx else "",
                         row[idx["sis_id"]].strip() if "sis_id" in idx else "", row=rownum, attempt=attempt)
        for qid, j in cols.items():
            letters, problem = parse_letters(row[j], bank[qid])
            if letters:
                sub.answers[qid] = letters
            if problem:
                sub.problems.append(CellProblem(qid, rownum, table.header[j], problem))
        subs.append(sub)
    return Roster(table.path, "plain-csv", table.encoding, subs)


def read_single(path: Path, bank: QuestionBank) -> Roster:
    """One student's answers: ``{id, name, answers: {q01: B, q06: [A, C]}}`` or just ``{q01: B, …}``."""
    file = str(path)
    check_size(path)
    text = read_utf8(path)
    data = load_json(text, file) if path.suffix.lower() == ".json" else load_yaml(text, file)
    if not isinstance(data, dict):
        raise InputError("expected a mapping of question id to letters (q01: B)", file=file)
    refuse_answer_key(data, file)
    answers = data.get("answers", data)
    if not isinstance(answers, dict):
        raise InputError("'answers' must be a mapping", file=file, column="answers")
    given: dict[str, tuple[Any, Any]] = {}  # qid -> (key as written, value)
    unknown = []
    for k, v in answers.items():
        if k in ("id", "name", "section"):
            continue
        qid = question_id(k)
        if qid is None or qid not in bank:
            unknown.append(str(k))
            continue
        if qid in given and sorted(set(option_tokens(given[qid][1]))) != sorted(set(option_tokens(v))):
            raise InputError(f"{qid} is given twice with different answers: {given[qid][0]}: {given[qid][1]!r} and "
                             f"{k}: {v!r}", file=file, column=f"answers.{k}" if answers is not data else str(k))
        given[qid] = (k, v)
    if unknown:
        raise InputError(f"unknown question id(s): {', '.join(map(str, unknown))}", file=file, column="answers")
    sub = Submission(str(data.get("id", "self")), str(data.get("name", "")), str(data.get("section", "")), row=None)
    for qid in bank.ids:
        letters, problem = parse_letters(given[qid][1] if qid in given else None, bank[qid])
        if letters:
            sub.answers[qid] = letters
        if problem:
            sub.problems.append(CellProblem(qid, None, qid, problem))
    return Roster(file, "single", "utf-8", [sub])
