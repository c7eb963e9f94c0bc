"""NTU COOL (Canvas) classic-quiz "Student Analysis" CSV.

Columns: ``name, id, [sis_id], [root_account], section, section_id, [section_sis_id], submitted,
[attempt]``, then per question ``"<quiz_question_id>: <question text>"`` (the answer) followed by a
points column whose header is the question's points, then ``n correct, n incorrect, score``.
A multiple-answers cell joins the chosen texts with ``,``; a comma inside a text is ``\\,``.
Questions are matched to q01…q12 by text (and by how well the cells fit the options), choices by
text; every fuzzy match is reported, ambiguity is refused unless pinned.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from grader.errors import InputError
from grader.readers.csvfile import TableStream, parse_attempt
from grader.readers.pins import MatchPins
from grader.readers.textmatch import normalise, similarity, similarity_bound
from grader.spec import QuestionBank, QuestionSpec
from grader.submissions import CellProblem, MatchNote, Roster, Submission

INFO_COLUMNS = ("name", "id", "sis_id", "root_account", "section", "section_id", "section_sis_id", "submitted",
                "attempt")
QUESTION_HEADER = re.compile(r"^\s*(\d+)\s*:\s*(.*)$", re.S)

# Matching settings (reader tolerances, not answer decisions).
QUESTION_MIN_SCORE = 0.55
QUESTION_MIN_MARGIN = 0.10
CHOICE_MIN_SCORE = 0.80
CHOICE_MIN_MARGIN = 0.04


MAX_PIECES_PER_OPTION = 4
"""A cell may repeat each option's text this many times (a student clicking twice, a TA pasting) before it is
refused as no answer (its splitting is linear, but its problem list would not be useful)."""


def looks_like_ntucool(header: list[str]) -> bool:
    """Whether a header is an NTU COOL Student Analysis export: an ``id`` column and at least one
    ``<quiz_question_id>: <text>`` column."""
    lower = [h.strip().lower() for h in header]
    return "id" in lower and any(QUESTION_HEADER.match(h) for h in header)


def split_choices(cell: str) -> list[str]:
    """Split a multiple-answers cell on commas not preceded by a backslash; unescape ``\\,``."""
    pieces, buf, i = [], [], 0
    while i < len(cell):
        ch = cell[i]
        if ch == "\\" and i + 1 < len(cell) and cell[i + 1] == ",":
            buf.append(",")
            i += 2
            continue
        if ch == ",":
            pieces.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    pieces.append("".join(buf))
    return [p.strip() for p in pieces]


@dataclass
class _QuestionColumn:
    index: int
    header: str
    quiz_question_id: str
    text: str


class ChoiceMatcher:
    """Maps choice texts of one question to letters: pins, exact normalised, then fuzzy (reported).

    ``notes`` collects the non-exact matches that were actually used for some cell."""

    def __init__(self, spec: QuestionSpec, pins: dict[str, str]):
        self.spec = spec
        # The English text is a second way a TA may have typed an option.
        self.candidates = [(o.id, normalise(t)) for o in spec.options for t in (o.text, o.text_en)]
        self.exact: dict[str, str | None] = {}
        for letter, n in self.candidates:
            # Two options with the same normalised text cannot be told apart: no exact match then.
            self.exact[n] = letter if self.exact.get(n, letter) == letter else None
        self.pins = {normalise(t): letter for t, letter in pins.items()}
        self.used_pins: set[str] = set()
        self.notes: dict[str, MatchNote] = {}
        self._cache: dict[str, tuple[str | None, MatchNote | None]] = {}
        self._exact_cache: dict[str, tuple[str | None, MatchNote | None]] = {}
        self._cells: dict[str, tuple[list[str], str | None]] = {}
        # a choice text with k unescaped commas spans k + 1 pieces of a cell: re-joins never need more
        texts = [t for o in spec.options for t in (o.text, o.text_en)] + list(pins)
        self.max_span = 1 + max((len(split_choices(t)) - 1 for t in texts), default=0)
        self.max_pieces = MAX_PIECES_PER_OPTION * len(spec.options) * self.max_span

    def lookup(self, text: str) -> tuple[str | None, MatchNote | None]:
        """(letter or None, the note describing a pinned/fuzzy match or None for an exact one)."""
        if text not in self._cache:
            self._cache[text] = self._lookup_normalised(text, normalise(text))
        return self._cache[text]

    def parse(self, raw: str) -> tuple[list[str], str | None, tuple[str, ...]]:
        """:func:`parse_cell` with a cache: a class has few distinct answer cells per question."""
        if raw not in self._cells:
            self._cells[raw] = parse_cell(self.spec, self, raw)
        letters, problem, unmatched = self._cells[raw]
        return list(letters), problem, unmatched

    def match(self, text: str) -> str | None:
        letter, note = self.lookup(text)
        if note is not None:
            self.notes[normalise(text)] = note
        return letter

    def lookup_exact(self, text: str) -> tuple[str | None, MatchNote | None]:
        """:meth:`lookup` for a text that only a pin or an exact match may take (re-joined pieces of a cell): no
        fuzzy matching is tried."""
        if text in self._cache:
            letter, note = self._cache[text]
            return (None, None) if note is not None and note.how == "fuzzy" else (letter, note)
        if text not in self._exact_cache:
            n = normalise(text)
            self._exact_cache[text] = (self._exact_normalised(text, n) if n else None) or (None, None)
        return self._exact_cache[text]

    def _exact_normalised(self, text: str, n: str) -> tuple[str | None, MatchNote | None] | None:
        """The pinned or exact answer for normalised ``n`` (its letter is None when two options share the text);
        None when neither applies."""
        if n in self.pins:
            self.used_pins.add(n)
            return self.pins[n], MatchNote("choice", self.spec.id, text, self.pins[n], 1.0, "pinned")
        if n in self.exact:
            return self.exact[n], None
        return None

    def _lookup_normalised(self, text: str, n: str) -> tuple[str | None, MatchNote | None]:
        if not n:
            return None, None
        found = self._exact_normalised(text, n)
        if found is not None:
            return found
        best: dict[str, float] = {}
        floor = CHOICE_MIN_SCORE - CHOICE_MIN_MARGIN
        for letter, cand in self.candidates:
            # a candidate whose upper bound is below the floor can neither match nor come within the margin of a
            # match: its bound stands in for its score (the same decisions, without a diff per pair)
            if 2 * min(len(n), len(cand)) / (len(n) + len(cand)) < floor:
                score = 0.0  # lengths alone differ too much
            else:
                score = similarity_bound(n, cand)
                if score >= floor:
                    score = similarity(n, cand)
            best[letter] = max(best.get(letter, 0.0), score)
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        letter, score = ranked[0]
        runner = ranked[1][1] if len(ranked) > 1 else 0.0
        if score < CHOICE_MIN_SCORE or score - runner < CHOICE_MIN_MARGIN:
            return None, None
        return letter, MatchNote("choice", self.spec.id, text, letter, score, "fuzzy")

    def segment(self, cell: str) -> tuple[list[str], list[str]]:
        """Letters chosen in a multiple-answers cell, and the pieces that matched nothing.

        Splits on unescaped commas, then re-joins neighbouring pieces when a choice text itself
        contains an unescaped comma (re-joined pieces must match exactly). Dynamic programming over the pieces,
        preferring (in order) fewest unmatched pieces, fewest fuzzy matches, fewest groups; only the matches of
        the chosen segmentation are reported. A re-join spans at most :attr:`max_span` pieces (the most any choice
        text has), so the work is linear in the cell's length."""
        pieces = split_choices(cell)
        n = len(pieces)
        Cost = tuple[int, int, int]
        best: list[tuple[Cost, list[str], list[str], list[MatchNote]] | None] = [None] * (n + 1)
        best[0] = ((0, 0, 0), [], [], [])
        for i in range(1, n + 1):
            for j in range(i - 1, max(-1, i - 1 - self.max_span), -1):
                prev = best[j]
                if prev is None:
                    continue
                (unm, fuz, grp), letters, unmatched, notes = prev
                # re-joined pieces must match a choice exactly: never absorb unknown text
                letter, note = self.lookup(pieces[j]) if i - j == 1 else self.lookup_exact(",".join(pieces[j:i]))
                if letter is not None:
                    fuzzy = note is not None and note.how == "fuzzy"
                    cand = ((unm, fuz + fuzzy, grp + 1), letters + [letter], unmatched,
                            notes + ([note] if note else []))
                elif i - j == 1:
                    piece = pieces[j]
                    cand = ((unm + bool(piece), fuz, grp + 1), letters, unmatched + ([piece] if piece else []), notes)
                else:
                    continue
                if best[i] is None or cand[0] < best[i][0]:
                    best[i] = cand
        _, letters, unmatched, notes = best[n]
        for note in notes:
            self.notes[normalise(note.found)] = note
        return letters, unmatched


def _choice_fit(spec: QuestionSpec, distinct: list[tuple[str, list[str]]]) -> float:
    """Share of a column's distinct answer cells (each normalised whole and piece by piece: :func:`_distinct_cells`)
    that are exactly ``spec``'s option texts."""
    if not distinct:
        return 0.0
    texts = {normalise(o.text) for o in spec.options} | {normalise(o.text_en) for o in spec.options}
    hits = sum(1 for whole, pieces in distinct if whole in texts or all(p in texts for p in pieces))
    return hits / len(distinct)


def _distinct_cells(cells: list[str]) -> list[tuple[str, list[str]]]:
    """The distinct non-blank cells of a column, normalised whole and split into normalised choices (once per
    column, not once per question it is compared with)."""
    return [(normalise(c), [normalise(p) for p in split_choices(c)]) for c in dict.fromkeys(cells) if c.strip()]


def match_questions(path: str, columns: list[_QuestionColumn], distinct: dict[int, list[str]], bank: QuestionBank,
                    pins: MatchPins) -> tuple[dict[str, _QuestionColumn], list[MatchNote], list[str]]:
    """Assign export columns to bank questions (``distinct``: each column's distinct cells, by column index, in the
    order they first occur); refuse ambiguity and missing questions."""
    notes: list[MatchNote] = []
    warnings: list[str] = []
    assigned: dict[str, _QuestionColumn] = {}
    by_quiz_id = {c.quiz_question_id: c for c in columns}
    for qid, quiz_id in pins.questions.items():
        col = by_quiz_id.get(quiz_id)
        if col is None:
            raise InputError(f"--match pins {qid} to quiz question {quiz_id}, but no column starts with "
                             f"'{quiz_id}:'", file=path, row=1)
        assigned[qid] = col
        notes.append(MatchNote("question", qid, col.header[:60], qid, 1.0, "pinned"))
    free_cols = [c for c in columns if c not in assigned.values()]
    free_specs = [s for s in bank if s.id not in assigned]
    cells = {c.index: _distinct_cells(distinct[c.index]) for c in free_cols}
    stems = {s.id: (normalise(s.stem), normalise(s.stem_en)) for s in free_specs}
    for c in free_cols:
        nc = normalise(c.text)
        # how well the column's cells fit each question's choices: once per question, for the bound and the score
        fit = {s.id: _choice_fit(s, cells[c.index]) for s in free_specs} if cells[c.index] else None

        def combined(stem: float, s) -> float:
            return stem if fit is None else 0.6 * stem + 0.4 * fit[s.id]

        # exact similarity only where it can reach the top two: a spec whose bound is below the second best's
        # exact score cannot change the ranking (the same decisions as scoring every pair, far fewer diffs)
        bounds = sorted(((combined(max(similarity_bound(nc, a), similarity_bound(nc, b)), s), s)
                         for s in free_specs for a, b in [stems[s.id]]), key=lambda t: -t[0])
        scores: dict[str, tuple[float, float]] = {}
        for bound, s in bounds:
            exact = sorted((v[0] for v in scores.values()), reverse=True)
            if len(exact) >= 2 and bound < exact[1]:
                break
            stem = max(similarity(nc, stems[s.id][0]), similarity(nc, stems[s.id][1]))
            scores[s.id] = (combined(stem, s), stem)
        ranked = sorted(((v[0], qid) for qid, v in scores.items()), reverse=True)
        if not ranked:
            warnings.append(f"column {c.header[:60]!r} ignored: every question is already matched")
            continue
        best, qid = ranked[0]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        if best < QUESTION_MIN_SCORE:
            warnings.append(f"column {c.header[:60]!r} matches no question of the bank (best {qid}, "
                            f"score {best:.2f}); ignored")
            continue
        if best - second < QUESTION_MIN_MARGIN:
            raise InputError(f"question column is ambiguous: {qid} scores {best:.2f}, {ranked[1][1]} {second:.2f}; "
                             f"pin it with --match (questions: {{{qid}: {c.quiz_question_id}}})",
                             file=path, row=1, column=c.header[:80])
        if qid in assigned:
            raise InputError(f"two columns match {qid}: {assigned[qid].header[:60]!r} and this one; pin the right one "
                             "with --match", file=path, row=1, column=c.header[:80])
        assigned[qid] = c
        stem_sim = scores[qid][1]
        if stem_sim < 1.0:
            notes.append(MatchNote("question", qid, c.text[:80], qid, stem_sim, "fuzzy"))
    missing = [s.id for s in bank if s.id not in assigned]
    if missing:
        raise InputError(f"no column for {', '.join(missing)}: the export has {len(columns)} question column(s) "
                         f"and {len(assigned)} matched; pin columns with --match if the texts differ",
                         file=path, row=1)
    return assigned, notes, warnings


def read_ntucool(table: TableStream, bank: QuestionBank, pins: MatchPins) -> Roster:
    """The :class:`Roster` of an NTU COOL Student Analysis export: question columns matched to the bank (see
    :func:`match_questions`), each answer cell parsed into letters, with the match notes, cell problems and warnings.

    One pass over the rows, keeping of each only its student cells and its answer cells (equal cells share one
    string: a class has few distinct answers), then the answers are read column by column."""
    lower = [h.strip().lower() for h in table.header]
    info = {name: lower.index(name) for name in INFO_COLUMNS if name in lower}
    if "id" not in info:
        raise InputError("no 'id' column: not an NTU COOL Student Analysis export", file=table.path, row=1)
    columns = []
    for j, h in enumerate(table.header):
        m = QUESTION_HEADER.match(h)
        if m and lower[j] not in INFO_COLUMNS:
            columns.append(_QuestionColumn(j, h, m.group(1), m.group(2)))
    id_col, attempt_col = info["id"], info.get("attempt")
    people = [info.get(name) for name in ("name", "section", "sis_id")]
    shared: list[dict[str, str]] = [{} for _ in columns]  # per column: each distinct cell once
    kept: list[tuple[int, str, tuple[str, ...], int | None, tuple[str, ...]]] = []
    for rownum, row in table.rows:
        sid = row[id_col].strip()
        if not sid:
            raise InputError("student id is blank: this row cannot be matched to a student", file=table.path,
                             row=rownum, column=table.header[id_col])
        attempt = None
        if attempt_col is not None and row[attempt_col].strip():
            attempt = parse_attempt(row[attempt_col], table.path, rownum, table.header[attempt_col])
        who = tuple(row[j].strip() if j is not None else "" for j in people)
        cells = tuple(seen.setdefault(row[c.index], row[c.index]) for seen, c in zip(shared, columns))
        kept.append((rownum, sid, who, attempt, cells))
    distinct = {c.index: list(seen) for seen, c in zip(shared, columns)}
    assigned, notes, warnings = match_questions(table.path, columns, distinct, bank, pins)
    matchers = {qid: ChoiceMatcher(bank[qid], pins.choices.get(qid, {})) for qid in assigned}
    where = {c.index: k for k, c in enumerate(columns)}
    reading = [(qid, where[col.index], col.header[:80], matchers[qid]) for qid, col in assigned.items()]
    answers: dict[str, dict[str, tuple[tuple[str, ...], str | None]]] = {qid: {} for qid in assigned}
    subs: list[Submission] = []
    for rownum, sid, (name, section, sis_id), attempt, cells in kept:
        sub = Submission(student_id=sid, name=name, section=section, sis_id=sis_id, row=rownum, attempt=attempt)
        for qid, k, header, matcher in reading:
            raw = cells[k]
            parsed = answers[qid].get(raw)
            if parsed is None:
                letters, problem, unmatched = matcher.parse(raw) if raw.strip() else ([], None, ())
                parsed = answers[qid][raw] = (tuple(sorted(set(letters))), problem, unmatched)
            if parsed[0]:
                sub.answers[qid] = parsed[0]
            if parsed[1]:
                sub.problems.append(CellProblem(qid, rownum, header, parsed[1], parsed[2]))
        subs.append(sub)
    del kept
    for m in matchers.values():
        notes.extend(sorted(m.notes.values(), key=lambda n: n.found))
    warnings.extend(unused_choice_pins(pins, matchers))
    return Roster(table.path, "ntucool", table.encoding, subs, notes, warnings)


def unused_choice_pins(pins, matchers: dict[str, ChoiceMatcher]) -> list[str]:
    """A warning for each ``--match`` choice pin that no answer cell used (a typo in the pins file?)."""
    out = []
    for qid, texts in sorted(pins.choices.items()):
        m = matchers.get(qid)
        for text in texts:
            if m is None or normalise(text) not in m.used_pins:
                out.append(f"--match: the choice text {text!r} pinned for {qid} occurs in no answer cell "
                           "(a typo in the pins file?)")
    return out


def parse_cell(spec: QuestionSpec, matcher: ChoiceMatcher, raw: str) -> tuple[list[str], str | None, tuple[str, ...]]:
    """Letters selected in one answer cell, a problem description if the cell is not clean, and the texts in it that
    match no choice (what a ``--match`` pin could map). A cell with more comma-separated pieces than
    :data:`MAX_PIECES_PER_OPTION` per option (times the longest choice's pieces) is no answer anyone gave: it is not
    read, and the problem says so."""
    pieces = raw.count(",") + 1
    if pieces > matcher.max_pieces:
        return [], (f"{pieces} comma-separated pieces, more than any answer to a question of {len(spec.letters)} "
                    f"options can have (at most {matcher.max_pieces} read); scored 0 until reviewed"), ()
    if spec.kind == "single":
        whole = matcher.match(raw.replace("\\,", ","))
        if whole is not None:
            return [whole], None, ()
        letters, unmatched = matcher.segment(raw)
        if len(letters) > 1 and not unmatched:
            return letters, (f"several choices ({', '.join(sorted(set(letters)))}) in a single-answer question; "
                             "scored by the rule (0)"), ()
        return [], f"unknown choice text {raw[:80]!r}; scored 0 until reviewed", (raw.replace("\\,", ","),)
    letters, unmatched = matcher.segment(raw)
    if len(set(letters)) != len(letters):
        letters = sorted(set(letters))
    if unmatched:
        shown = "; ".join(repr(u[:60]) for u in unmatched[:5]) + (f" … ({len(unmatched)} in all)"
                                                                  if len(unmatched) > 5 else "")
        return letters, f"unknown choice text {shown}; scored on the recognised choices until reviewed", \
            tuple(unmatched)
    return letters, None, ()
