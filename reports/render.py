"""Rendering the grader's reports: the class report and per-student feedback."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
from markupsafe import Markup, escape

from grader.items import QuizStats
from grader.readers.textmatch import unescape_markdown
from grader.scoring import fmt_points
from grader.sheet import ScoreSheet, StudentResult
from grader.submissions import Roster
from grader.writers import RegradeRow

from . import svg

_MATH = re.compile(r"\$([^$\n]+)\$")
_TEXT_CMD = re.compile(r"\\(?:text|mathrm|textrm|texttt|mathit)\{((?:[^{}\\]|\\.)*)\}")
_MATH_SYMBOLS = {"\\times": "×", "\\cdot": "·", "\\le": "≤", "\\ge": "≥", "\\neq": "≠", "\\to": "→",
                 "\\ldots": "…", "\\dots": "…"}


def _math_text(m: re.Match) -> str:
    """One inline ``$…$`` formula as the text a reader sees: ``\\text{…}`` unwrapped, a few symbols as characters."""
    body = _TEXT_CMD.sub(r"\1", m.group(1).strip())
    for cmd, char in _MATH_SYMBOLS.items():
        body = body.replace(cmd, char)
    return body


def _plain(text: object) -> str:
    r"""Question and option texts as people read them: the appendix's inline LaTeX (``$\text{codebook\_layer}(…) =
    0$``) and Markdown (backticks, backslash escapes such as ``split\_index``) rendered to text, runs of spaces
    closed; everything else kept as written.

    >>> _plain(r"第零層  $\text{codebook\_layer}(\text{token layers}) = 0$ , code ID")
    '第零層 codebook_layer(token layers) = 0 , code ID'
    >>> _plain(r"檔案 `audio_codes_shuffled.pt`, 共  $4! = 24$  個; split\_index = 2")
    '檔案 audio_codes_shuffled.pt, 共 4! = 24 個; split_index = 2'
    """
    s = "" if text is None else str(text)
    if "$" in s:
        s = _MATH.sub(_math_text, s)
    if "`" in s:
        s = re.sub(r"`([^`\n]*)`", r"\1", s)
    s = unescape_markdown(s)
    return re.sub(r"(?<=\S) {2,}(?=\S)", " ", s) if "  " in s else s


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Unicode's control characters (general category Cc: exactly these 65 code points)."""


_MD_SPECIAL = re.compile("[\\\\&<>`*_\\[\\]|#\x00-\x1f\x7f-\x9f]")
"""Every character :func:`_md` changes (most ids and names have none)."""


def _md(text: object) -> str:
    r"""Escape text for Markdown so names like <script> or *x* stay literal in any renderer.

    >>> print(_md("王小明 B09901001"), _md("*x* <b>\rA|B"))
    王小明 B09901001 \*x\* &lt;b&gt; A\|B
    """
    if isinstance(text, str) and not _MD_SPECIAL.search(text):
        return text
    s = _plain(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _CONTROL.sub(" ", s)  # \r, \n, ESC … would break a line
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", s)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The template environment (cached: loading and compiling templates is the slow part)."""
    folder = Path(str(resources.files("reports") / "templates"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = _md
    env.filters["plain"] = _plain
    return env


def _provenance_lines(prov: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for k, v in prov.items():
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items())
        elif isinstance(v, list):
            v = ", ".join(map(str, v))
        out.append((str(k), str(v)))
    return out


def override_lines(key) -> list[str]:
    """One line per TA verdict that overrides what the evidence decided: question, option, both verdicts, the note,
    who and when (what ``hw10 verify``, the class report and the evidence report list)."""
    return [f"{q} {r.option}: TA {r.verdict} over the evidence's {r.evidence_verdict} — {r.note} ({r.who}, {r.when})"
            for q, reviews in key.overrides.items() for r in reviews]


def _question_view(sheet: ScoreSheet, qid: str) -> dict[str, Any]:
    spec = sheet.bank[qid]
    a = sheet.key.answer(qid)
    pol = a.policy
    policy = []
    if pol:
        if pol.full_credit:
            policy.append("full credit to everyone")
        if pol.also_accept:
            policy.append("also accepted: " + ", ".join(pol.also_accept))
        if pol.drop:
            policy.append("dropped from scoring: " + ", ".join(pol.drop))
        if pol.note:
            policy.append(pol.note)
    return {"id": qid, "title": spec.title, "kind": spec.kind, "points": fmt_points(spec.points_exact),
            "stem": spec.stem, "stem_en": spec.stem_en, "status": a.status, "level": a.level or "",
            "correct": a.correct, "reason": a.reason or "", "policy": "; ".join(policy), "fragile": a.fragile,
            "options": [{"id": o.id, "text": o.text, "text_en": o.text_en} for o in spec.options],
            "why": a.why() if a.graded else ""}


def render_class_report(sheet: ScoreSheet, stats: QuizStats, roster: Roster, decimals: int,
                        regrade: list[RegradeRow] | None = None, previous_key: str | None = None,
                        key_path: str = "", unread: dict[str, dict[str, int]] | None = None) -> str:
    """The HTML of report.html: score histogram and summary statistics, item analysis with option bars, flagged
    items, students to check, reader matches and warnings, pending questions and, with a previous key, the regrade."""
    maximum = float(sheet.max_total)
    hist = svg.histogram([float(r.total) for r in sheet.results], maximum or 1.0,
                         bins=20, title=f"Total score (out of {fmt_points(sheet.max_total)})")
    items = []
    for it in stats.items:
        bars = svg.option_bars([(o.letter, o.share, o.share_upper, o.share_lower, o.keyed_correct) for o in it.options])
        items.append({"q": _question_view(sheet, it.qid), "it": it, "bars": svg.data_uri(bars),
                      "difficulty": f"{it.difficulty:.2f}",
                      "disc": "—" if it.discrimination is None else f"{it.discrimination:.2f}",
                      "ul": f"{it.upper_lower:+.2f}", "blank": f"{it.blank_share:.0%}"})
    checks = [r for r in sheet.results if r.status != "ok"]
    moved = None
    if regrade is not None:
        changed = [d for d in regrade if d.delta != 0 or d.changed]
        moved = {"up": sum(1 for d in regrade if d.delta > 0), "down": sum(1 for d in regrade if d.delta < 0),
                 "same": sum(1 for d in regrade if d.delta == 0),
                 "rows": [{"id": d.result.student_id, "name": d.result.name, "old": fmt_points(d.old_total, decimals),
                           "new": fmt_points(d.new_total, decimals), "delta": fmt_points(d.delta, decimals),
                           "changed": "; ".join(f"{q} {fmt_points(x, decimals) if x is not None else 'not graded'}"
                                                f"→{fmt_points(y, decimals) if y is not None else 'not graded'}"
                                                for q, x, y in d.changed)} for d in changed]}
    return environment().get_template("class_report.html.j2").render(
        n=stats.n, mean=f"{stats.mean:.2f}", median=f"{stats.median:.2f}", stdev=f"{stats.stdev:.2f}",
        max_total=fmt_points(sheet.max_total), course_total=fmt_points(sheet.bank.total_points),
        kr20="—" if stats.kr20 is None else f"{stats.kr20:.3f}",
        alpha="—" if stats.alpha is None else f"{stats.alpha:.3f}",
        histogram=svg.data_uri(hist), items=items,
        pending=[_question_view(sheet, q) for q in sheet.pending],
        from_fixtures=sheet.key.from_fixtures, overrides=override_lines(sheet.key),
        flagged=[it for it in stats.items if it.flags], checks=checks,
        matches=[str(m) for m in roster.matches], warnings=roster.warnings,
        source={"path": Path(roster.path).name, "format": roster.format, "encoding": roster.encoding},
        key_path=Path(key_path).name if key_path else "", provenance=_provenance_lines(sheet.key.provenance),
        sample_key=sheet.key.provenance.get("kind") == "sample",
        unread=sorted((q, sum(t.values()), len(t)) for q, t in (unread or {}).items()),
        key_description=str(sheet.key.provenance.get("description") or sheet.key.provenance.get("kind") or ""),
        regrade=moved, previous_key=Path(previous_key).name if previous_key else "")


class FeedbackRenderer:
    """Renders per-student feedback; question views and templates are prepared once per class."""

    def __init__(self, sheet: ScoreSheet, decimals: int, evidence_link: str | None = None):
        """``evidence_link``: where the key's evidence report is published (a URL or a path relative to the pages),
        each question's row links to its section there."""
        env = environment()
        self.sheet = sheet
        self.decimals = decimals
        self.html = env.get_template("feedback.html.j2")
        self.md = env.get_template("feedback.md.j2")
        self.row_html = env.get_template("feedback_row.html.j2")
        self.row_md = env.get_template("feedback_row.md.j2")
        self._rows: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
        self._shells: dict[tuple[bool, int], tuple[_Shell, _Shell] | tuple[()]] = {}
        self.questions = {q: _question_view(sheet, q) for q in sheet.bank.ids}
        for q, view in self.questions.items():  # the static cell, escaped once instead of once per student
            view["cell"] = Markup(f"<b>{escape(q)}</b> {escape(_plain(view['stem']))}<br>"
                                  f"<span class=\"muted\">{escape(_plain(view['stem_en']))}</span>")
            # only an answer that has evidence links to it (computed or reviewed; an asserted one has none)
            view["link"] = f"{evidence_link}#{q}" if evidence_link and view["status"] in ("computed", "reviewed") \
                else ""
        self.option_text = {s.id: {o.id: o.text for o in s.options} for s in sheet.bank}
        self.option_text_en = {s.id: {o.id: o.text_en for o in s.options} for s in sheet.bank}
        self.max_points = {s.id: fmt_points(s.points_exact) for s in sheet.bank}
        # the same for every student: rendered once, not once per page (an include costs a render each time)
        self.css = Markup(env.get_template("base.css.j2").render())
        self.max_total = fmt_points(sheet.max_total)

    def _row(self, qid: str, s, unread: str = "") -> dict[str, Any]:
        """One question's feedback row (HTML and Markdown), rendered once per distinct selection; ``unread``:
        what in the student's cell could not be read (shown instead of a misleading "(blank)")."""
        k = (qid, s.selected, unread)
        if k not in self._rows:
            texts, texts_en = self.option_text[qid], self.option_text_en[qid]
            row = {"q": self.questions[qid], "selected": list(s.selected),
                   "selected_text": [texts[x] for x in s.selected],
                   "selected_text_en": [texts_en[x] for x in s.selected], "unread": unread,
                   "correct": list(s.correct), "correct_text": [texts[x] for x in s.correct],
                   "correct_text_en": [texts_en[x] for x in s.correct],
                   "graded": s.graded, "policy": self.questions[qid]["policy"],
                   "points": fmt_points(s.points, self.decimals) if s.graded else "not graded",
                   "max": self.max_points[qid], "full": s.graded and s.points == s.max_points}
            html, md = Markup(self.row_html.render(r=row)), self.row_md.render(r=row)
            self._rows[k] = {"html": html, "md": md, "html_utf8": html.encode("utf-8"), "md_utf8": md.encode("utf-8")}
        return self._rows[k]

    def _rows_of(self, r: StudentResult) -> list[dict[str, Any]]:
        """The student's question rows, in question order."""
        cached, scores, unread = self._rows, r.scores, r.unread
        return [cached.get((qid, scores[qid].selected, unread.get(qid, "")))
                or self._row(qid, scores[qid], unread.get(qid, "")) for qid in self.questions]

    def view(self, r: StudentResult) -> SimpleNamespace:
        """What the feedback templates show of one student (a namespace: attribute lookups in a template succeed
        at the first try; the question rows come joined, each rendered once per class)."""
        rows = self._rows_of(r)
        return SimpleNamespace(id=r.student_id, name=r.name, section=r.section,
                               total=fmt_points(r.total, self.decimals), max_total=self.max_total, status=r.status,
                               notes=r.notes, rows=rows, rows_html=Markup("".join(x["html"] for x in rows)),
                               rows_md="".join(x["md"] for x in rows), pending=self.sheet.pending)

    def render(self, r: StudentResult) -> tuple[bytes, bytes]:
        """(HTML, Markdown) feedback for one student, UTF-8: the pages of :meth:`render_direct`, filled into the
        class's page shells (:class:`_Shell`) where one was built and checked for a student of this page's shape."""
        key = (bool(r.section), len(r.notes))
        shells = self._shells.get(key)
        if shells is None:
            shells = self._shells[key] = self._shells_for(r)
        return self._fill(shells, r) if shells else self.render_direct(r)

    def _fill(self, shells: tuple["_Shell", "_Shell"], r: StudentResult) -> tuple[bytes, bytes]:
        """``r``'s (HTML, Markdown) pages: the shells filled with its values, escaped as the templates escape them."""
        rows = self._rows_of(r)
        total = fmt_points(r.total, self.decimals)
        html = [[str(escape(v)).encode("utf-8")] for v in (r.student_id, r.name, r.section, total, *r.notes)]
        html.insert(_ROWS, [x["html_utf8"] for x in rows])
        md = [[_md(v).encode("utf-8")] for v in (r.student_id, r.name, r.section)] + [[total.encode("utf-8")]]
        md += [[_md(v).encode("utf-8")] for v in r.notes]
        md.insert(_ROWS, [x["md_utf8"] for x in rows])
        return shells[0].fill(html), shells[1].fill(md)

    def render_direct(self, r: StudentResult) -> tuple[bytes, bytes]:
        """(HTML, Markdown) feedback for one student, UTF-8, each a render of its template."""
        view = self.view(r)
        return self.html.render(s=view, css=self.css).encode("utf-8"), self.md.render(s=view).encode("utf-8")

    def _shells_for(self, r: StudentResult) -> tuple["_Shell", "_Shell"] | tuple[()]:
        """The HTML and Markdown shells for pages shaped like ``r``'s (with or without a section, as many notes),
        checked once against :meth:`render_direct` of ``r``; ``()`` when they do not give its pages (a template
        that uses a value the shell does not fill): those pages are then rendered directly, never wrong."""
        marks = [_mark(i) for i in range(_FIELDS + len(r.notes))]
        view = SimpleNamespace(id=marks[0], name=marks[1], section=marks[2] if r.section else "", total=marks[3],
                               rows_html=Markup(marks[_ROWS]), rows_md=marks[_ROWS], max_total=self.max_total,
                               notes=marks[_FIELDS:], pending=self.sheet.pending)
        try:
            shells = (_Shell(self.html.render(s=view, css=self.css)), _Shell(self.md.render(s=view)))
        except jinja2.UndefinedError:
            return ()
        return shells if self._fill(shells, r) == self.render_direct(r) else ()


_ROWS = 4
"""Where a student's question rows go among the values a shell is filled with: id, name, section, total, rows,
then the notes."""
_FIELDS = 5


def _mark(i: int) -> str:
    """The placeholder for value ``i`` in a page shell: private-use characters, which neither HTML nor Markdown
    escaping changes."""
    return f"\ue000{i}\ue001"


class _Shell:
    """A feedback template rendered once with a placeholder (:func:`_mark`) for each per-student value and cut at
    the placeholders: a student's page is the pieces joined with that student's values, each escaped as the template
    escapes it. The pieces are UTF-8 already: a page is mostly the questions' Chinese text, and encoding 8 KB of it
    per page cost more than filling it in (10,000 students: pages in two thirds of the time of rendering each as
    text, and that again in half as bytes)."""

    __slots__ = ("pieces", "slots")
    _CUT = re.compile("\ue000([0-9]+)\ue001")

    def __init__(self, text: str):
        parts = self._CUT.split(text)  # page text, value number, page text, …, page text
        self.pieces = tuple(p.encode("utf-8") for p in parts[0::2])
        """The page's text between the values, UTF-8."""
        self.slots = tuple(int(p) for p in parts[1::2])
        """Which value goes into each gap between two pieces."""

    def fill(self, values: list[list[bytes]]) -> bytes:
        """The page with ``values`` in its gaps, each value the UTF-8 pieces of its escaped text (one join per
        page: the question rows go in as they are cached, not joined first)."""
        out = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:]):
            out += values[slot]
            out.append(piece)
        return b"".join(out)
