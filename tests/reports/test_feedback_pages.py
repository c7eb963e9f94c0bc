"""Feedback pages are filled into page shells rendered once per class (reports/render.py, ``_Shell``): for every
student they must be exactly the pages the templates render, whatever the names, ids, sections and cells hold."""
from __future__ import annotations

from conftest import SAMPLE
from exportkit import Row, write_export

from grader.key import load_key
from grader.readers.formats import read_submissions
from grader.sheet import grade_roster
from reports.render import FeedbackRenderer

HOSTILE = ["{0}", "{}", "{{x}}", "<script>alert(1)</script>", "*bold* _x_ |pipe| #h", "a\rb\nc", "&amp; \\` \\",
           "王小明", "\ue0000\ue001", "\x1b[2J", "  "]


def test_filled_pages_are_the_rendered_pages_for_hostile_students(tmp_path, bank):
    rows = []
    for i, text in enumerate(HOSTILE):
        rows.append(Row(f"id{text}{i}", name=text, section=text if i % 2 else "", answers={"q01": ["B"]}))
        # a second attempt (a note) and a cell that cannot be read (its text shown back, a note too)
        rows.append(Row(f"n{i}", name=f"n {text}", section="S1", attempt=1, raw={"q03": f"no such choice {text}"}))
        rows.append(Row(f"n{i}", name=f"n {text}", section="S1", attempt=2, answers={"q06": ["A", "B"]}))
    export = tmp_path / "e.csv"
    write_export(export, bank, rows)
    key = load_key(SAMPLE / "key.yaml", bank)
    for path in (export, SAMPLE / "export.csv"):
        sheet = grade_roster(read_submissions(path, bank), bank, key)
        renderer = FeedbackRenderer(sheet, 4)
        for r in sheet.results:
            assert renderer.render(r) == renderer.render_direct(r), r.student_id
        shapes = renderer._shells
        assert any(shapes.values()), shapes  # the shells were used, not only the direct renders
    assert {(s, n) for (s, n), shells in shapes.items() if shells} >= {(True, 0)}


def test_a_template_value_the_shell_does_not_fill_falls_back_to_rendering(bank, monkeypatch):
    """A template changed to show a value the shell does not know (here the student's status): the pages are still
    the rendered ones, never a page with a placeholder or another student's value in it."""
    import jinja2

    from reports import render

    key = load_key(SAMPLE / "key.yaml", bank)
    sheet = grade_roster(read_submissions(SAMPLE / "export.csv", bank), bank, key)
    renderer = FeedbackRenderer(sheet, 4)
    renderer.md = render.environment().from_string("{{ s.name|md }} {{ s.status }}\n", globals=None)
    assert isinstance(renderer.md, jinja2.Template)
    for r in sheet.results[:20]:
        assert renderer.render(r) == renderer.render_direct(r)
        assert renderer.render(r)[1] == f"{render._md(r.name)} {r.status}\n".encode()
    assert not any(renderer._shells.values())
