"""A synthetic class: an NTU COOL "Student Analysis" export and a sample key, for the demo and the bench.

``fixtures/sample_class/make_sample.py`` writes the shipped sample with it; ``hw10 bench grade``
builds a 10,000-student export the same way. Seeded and deterministic. By default 300 students in three
sections, some second attempts (rows newest first, as NTU COOL writes them), blanks, multiple-answers cells
with escaped commas (``\\,``), texts typed the way a TA types them into NTU COOL (no markdown, no LaTeX,
sometimes no "選擇題:" label, full-width punctuation), question columns not in q01…q12 order, names that
must come out inert (``<script>``, ``=HYPERLINK(...)``), and one cell whose choice text is not in the bank.
The key is a SAMPLE with status ``asserted``: it is not the homework's answer key.
"""
from __future__ import annotations

import csv
import io
import math
import random
import re
from fractions import Fraction

from .key import AnswerKey, KeyAnswer
from .spec import QuestionBank

SEED = 20260109
SAMPLE_CORRECT = {"q01": ["B"], "q02": ["C"], "q03": ["B"], "q04": ["B"], "q05": ["C"], "q06": ["A", "B", "D", "E"],
                  "q07": ["C"], "q08": ["C"], "q09": ["B"], "q10": ["A", "C", "F"], "q11": ["C"], "q12": ["A"]}
DIFFICULTY = {"q01": -1.2, "q02": -1.5, "q03": -1.0, "q04": -1.6, "q05": 0.3, "q06": 0.2, "q07": -0.5, "q08": 0.4,
              "q09": -0.2, "q10": 0.6, "q11": 0.0, "q12": -0.8}
SECTIONS = [("AIA1390 01", "71001"), ("AIA1390 02", "71002"), ("AIA1390 03", "71003")]
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高"
GIVEN = ["怡君", "家豪", "雅婷", "冠宇", "思妤", "柏翰", "宜蓁", "承恩", "品妍", "宥廷", "子晴", "彥廷", "詩涵", "俊傑",
         "佳穎"]


def sample_correct(spec) -> list[str]:
    """The sample key's answer to ``spec``: :data:`SAMPLE_CORRECT`'s, or for a question it does not know (a bank with
    more questions) the first option (single answer) or the first two (multi)."""
    known = SAMPLE_CORRECT.get(spec.id)
    return list(known) if known else spec.letters[: 1 if spec.kind == "single" else 2]


def column_order(ids: list[str]) -> list[str]:
    """The order of the question columns in the export: the bank's, with two pairs swapped as a TA's reordering in NTU
    COOL would (the 7th and 8th, the last two): the reader must match questions by text, not by position."""
    order = list(ids)
    for a, b in ((6, 7), (len(order) - 2, len(order) - 1)):
        if 0 <= a < b < len(order):
            order[a], order[b] = order[b], order[a]
    return order


def as_typed_in_canvas(text: str, drop_label: bool) -> str:
    """What a TA typing the slide text into NTU COOL ends up with."""
    t = text.replace("`", "").replace("\\_", "_")
    t = re.sub(r"\$\\text\{([^}]*)\}\(\\text\{([^}]*)\}\) = 0\$", r"\1(\2) = 0", t)
    t = t.replace("$4! = 24$", "4! = 24").replace("  ", " ")
    if drop_label:
        t = re.sub(r"^(多重選擇題|選擇題):\s*", "", t)
    return t


def canvas_cell(texts: list[str]) -> str:
    """A multiple-answers cell as NTU COOL writes it: the chosen texts joined by ``,``, commas inside them
    as ``\\,``."""
    return ",".join(t.replace(",", "\\,") for t in texts)


def rule_score(kind: str, points: Fraction, correct: set[str], sel: set[str]) -> Fraction:
    """The points column the synthetic export carries for a selection: the grading rule applied to the sample key
    (single: all or nothing; multi: (right − wrong) × points / correct, floored at 0)."""
    if kind == "single":
        return points if len(sel) == 1 and sel <= correct else Fraction(0)
    t, f = len(sel & correct), len(sel - correct)
    return max(Fraction(0), (t - f) * points / len(correct))


def build_class(bank: QuestionBank, n_students: int = 300, seed: int = SEED) -> tuple[bytes, AnswerKey]:
    """(export CSV bytes with BOM, sample key) for ``n_students`` students."""
    rng = random.Random(seed)
    typed = {}
    for i, spec in enumerate(bank):
        qtext = as_typed_in_canvas(spec.stem, drop_label=i % 3 == 1)
        choices = {o.id: as_typed_in_canvas(o.text, False) for o in spec.options}
        typed[spec.id] = (qtext, choices)
    # One choice typed with full-width punctuation, as happens with a Chinese IME.
    if "q07" in typed:
        typed["q07"][1]["C"] = typed["q07"][1]["C"].replace(", ", "，")
    correct = {spec.id: sample_correct(spec) for spec in bank}
    order = column_order(bank.ids)

    header = ["name", "id", "sis_id", "root_account", "section", "section_id", "section_sis_id", "submitted", "attempt"]
    quiz_ids = {q: str(583900 + int(q[1:])) for q in bank.ids}
    for q in order:
        header += [f"{quiz_ids[q]}: {typed[q][0]}", str(float(bank[q].points_exact))]
    header += ["n correct", "n incorrect", "score"]

    students = []
    names_seen = set()
    for i in range(n_students):
        for _ in range(20):  # prefer unique names; a big class may share some, as real ones do
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            if name not in names_seen:
                break
            name += rng.choice("一二三")
            if name not in names_seen:
                break
        names_seen.add(name)
        students.append({"name": name, "id": str(148200 + i * 7), "sis_id": f"b{12901000 + i * 3}",
                         "section": SECTIONS[i % 3], "ability": rng.gauss(0, 1)})
    specials = {17: "<script>alert('x')</script>", 42: '=HYPERLINK("http://example.invalid","click")',
                99: "Wang, Xiao-Ming", 150: "+886 Lin"}
    for i, name in specials.items():
        if i < n_students:
            students[i]["name"] = name

    def answer_set(st: dict, attempt: int) -> dict[str, list[str]]:
        ans = {}
        for spec in bank:
            if rng.random() < 0.03:
                ans[spec.id] = []
                continue
            right = correct[spec.id]
            p = 1 / (1 + math.exp(-(1.7 * (st["ability"] + 0.3 * (attempt - 1)) - DIFFICULTY.get(spec.id, 0.0))))
            if spec.kind == "single":
                if rng.random() < p:
                    ans[spec.id] = list(right)
                else:
                    ans[spec.id] = [rng.choice([x for x in spec.letters if x not in right])]
            else:
                chosen = [x for x in spec.letters if (rng.random() < (0.25 + 0.7 * p) if x in right
                                                      else rng.random() < 0.35 * (1 - p) + 0.05)]
                ans[spec.id] = chosen
        return ans

    rows = []
    for i, st in enumerate(students):
        attempts = 2 if i % 11 == 4 else 1
        day = 1 + i % 9
        for a in range(attempts, 0, -1):  # newest first
            st_ans = answer_set(st, a)
            rows.append((st, a, st_ans, f"2026-01-0{day} {10 + a}:{i % 60:02d}:{(i * 7) % 60:02d} UTC"))

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for st, attempt, ans, submitted in rows:
        sec, sec_id = st["section"]
        row = [st["name"], st["id"], st["sis_id"], "ntu", sec, sec_id, "", submitted, str(attempt)]
        n_right = n_wrong = 0
        total = Fraction(0)
        for q in order:
            spec = bank[q]
            sel = ans[q]
            cell = canvas_cell([typed[q][1][x] for x in sel]) if spec.kind == "multi" else \
                (typed[q][1][sel[0]] if sel else "")
            pts = rule_score(spec.kind, spec.points_exact, set(correct[q]), set(sel)) if sel else Fraction(0)
            total += pts
            n_right += pts == spec.points_exact
            n_wrong += bool(sel) and pts != spec.points_exact
            row += [cell, f"{float(pts):.2f}".rstrip("0").rstrip(".") if sel else ""]
        row += [str(n_right), str(n_wrong), f"{float(total):.2f}"]
        rows_out = row
        w.writerow(rows_out)
    text = out.getvalue()
    # One student typed nothing we know: a choice the TA later edited in NTU COOL (flagged, not lost).
    lines = text.split("\n")
    target = 1 + min(60, len(rows) - 1)  # data row 60
    parts = next(csv.reader([lines[target]]))
    col = header.index(f"{quiz_ids['q03']}: {typed['q03'][0]}")
    parts[col] = "channels（已修改的選項）"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(parts)
    lines[target] = buf.getvalue()
    export = ("\ufeff" + "\n".join(lines)).encode("utf-8")

    key = AnswerKey(format="hw10-key/1", questions_sha256=bank.sha256(),
                    provenance={"kind": "sample",
                                "description": "SAMPLE key for the synthetic sample class; "
                                               "NOT the homework's answer key",
                                "made_by": "grader.synthetic (fixtures/sample_class/make_sample.py)", "seed": seed},
                    answers={q: KeyAnswer(correct=c, status="asserted", reason="sample key (synthetic class)")
                             for q, c in correct.items()})
    return export, key
