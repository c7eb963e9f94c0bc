"""A student's answers for the self-check (``hw10 check --answers FILE``): a YAML/JSON mapping or lines of text.

Read into ``{qid: [letters]}``, each answer checked against its question; every problem is an
:class:`grader.errors.InputError` naming the file and line.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from grader.errors import InputError
from grader.readers.plain import normalise_text, option_tokens, question_id, refuse_answer_key
from grader.safeyaml import StrictLoader, load_json, unreadable_value
from grader.spec import QuestionBank, read_utf8

__all__ = ["read_answers"]


_ANSWER_LINE = re.compile(r"^(q?\s*\d{1,2})(?:\s*(?:[:=.)]|\s)\s*(.*))?$", re.I)
"""``q01 B``, ``q06: A, C``, ``6 = A;B``, ``1. B``, ``q05:`` (blank), after :func:`normalise_text`."""


def read_answers(path: Path, bank: QuestionBank) -> dict[str, list[str]]:
    """The self-check's answers, each checked against its question: a YAML/JSON mapping (``q01: B``,
    ``q06: [A, C]``, optionally under ``answers:``) or text lines like ``q01 B``, ``6: A,C``, ``Ｑ０３：Ｂ``,
    ``q10: A、C``, ``q04 (b).`` (``#`` starts a comment).

    Refused, naming the file and line: a line that cannot be read, a question the quiz does not have, a
    letter the question does not have, a question answered twice differently, an answer key, a file
    without any answer."""
    file = str(path)
    text = read_utf8(path)
    entries = _mapping_entries(text, path)
    if entries is None:  # text lines
        entries = []
        for n, raw in enumerate(text.splitlines(), start=1):
            line = normalise_text(raw).split("#", 1)[0].strip()
            if not line:
                continue
            m = _ANSWER_LINE.match(line)
            if not m:
                raise InputError(f"cannot read {raw.strip()!r}: expected a line like 'q01 B' or 'q06: A, C'",
                                 file=file, row=n)
            entries.append((m.group(1), m.group(2), n))
    answers: dict[str, list[str]] = {}
    lines: dict[str, int | None] = {}
    for name, value, n in entries:
        qid = question_id(name)
        if qid is None or qid not in bank:
            raise InputError(f"no question {name!r} in this quiz (questions are {bank.ids[0]} … {bank.ids[-1]})",
                             file=file, row=n)
        spec = bank[qid]
        tokens = option_tokens(value)
        bad = [t for t in tokens if t not in spec.letters]
        if bad:
            raise InputError(f"cannot read the answer to {qid}, {value!r}: {', '.join(bad)} "
                             f"{'is not an option' if len(bad) == 1 else 'are not options'} of {qid} "
                             f"({', '.join(spec.letters)})", file=file, row=n)
        letters = sorted(set(tokens))
        if qid in answers and answers[qid] != letters:
            first, then = (f"{','.join(ls) or 'blank'}" + (f" on line {ln}" if ln is not None else "")
                           for ls, ln in ((answers[qid], lines[qid]), (letters, n)))
            raise InputError(f"{qid} is answered twice with different answers: {first} and {then}", file=file, row=n)
        answers[qid], lines[qid] = letters, n
    if not any(answers.values()):
        raise InputError("no answers found: write one line per question, like 'q01 B' or 'q06: A, C' "
                         "(or YAML/JSON: q01: B)", file=file)
    return answers


def _mapping_entries(text: str, path: Path) -> list[tuple[object, object, int | None]] | None:
    """(question as written, answer, line) of a YAML/JSON answers mapping; None when the text is not one."""
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if not isinstance(node, yaml.MappingNode):
            return None
        data = loader.construct_document(node)
        pairs = [(k, v, loader.construct_object(k, deep=True)) for k, v in node.value]
        if isinstance(data, dict):
            refuse_answer_key(data, str(path))
            if "answers" in data:
                knode, vnode, _ = next(p for p in pairs if p[2] == "answers")
                if not isinstance(vnode, yaml.MappingNode):
                    raise InputError("'answers' must be a mapping", file=str(path), row=knode.start_mark.line + 1)
                pairs = [(k, v, loader.construct_object(k, deep=True)) for k, v in vnode.value]
            else:
                pairs = [p for p in pairs if p[2] not in ("id", "name", "section")]
            return [(name, loader.construct_object(v, deep=True), k.start_mark.line + 1) for k, v, name in pairs]
    except yaml.YAMLError:
        pass
    except (ValueError, OverflowError) as exc:  # a value the safe constructors cannot build (a date 2001-13-45)
        raise unreadable_value("YAML", exc, str(path)) from None
    finally:
        loader.dispose()
    return _json_entries(text, path) if path.suffix.lower() == ".json" else None


def _json_entries(text: str, path: Path) -> list[tuple[object, object, int | None]] | None:
    """Entries of JSON that YAML does not read (tabs), without line numbers."""
    data = load_json(text, str(path))
    if not isinstance(data, dict):
        return None
    refuse_answer_key(data, str(path))
    answers = data.get("answers", data)
    if not isinstance(answers, dict):
        raise InputError("'answers' must be a mapping", file=str(path), column="answers")
    return [(k, v, None) for k, v in answers.items() if answers is not data or k not in ("id", "name", "section")]
