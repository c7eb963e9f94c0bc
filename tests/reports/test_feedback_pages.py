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


def test_a_students_page_teaches_with_texts_the_evidence_and_a_link(tmp_path, bank, capsys):
    """Graded with a computed key (keys/structural.yaml: q01–q04 computed, the rest pending): per question the
    student's choice and the correct option by their texts in Chinese and English (LaTeX and Markdown rendered), the
    key's evidence line and a link to that question's section of the published evidence report."""
    from conftest import ROOT

    from hw10.cli import main

    out = tmp_path / "out"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(ROOT / "keys" / "structural.yaml"), "--out",
                 str(out), "--allow-pending", "--evidence-report", "https://cool.example/hw10/evidence/"]) == 0
    page = (out / "feedback" / "148319.html").read_text(encoding="utf-8")
    q02 = bank["q02"]
    right = next(o for o in q02.options if o.id == "C")
    assert right.text in page and right.text_en in page  # the correct option by its texts, both languages
    assert "<b>Why:</b> 8sAudio.wav (8.00 s) → [1, 32, 100]; ceil(192000/1920) = 100" in page
    assert 'href="https://cool.example/hw10/evidence/#q02"' in page
    assert "codebook_layer(token layers) = 0" in page and "$\\text" not in page  # q05's stem, LaTeX rendered
    assert "\\_" not in page and "`" not in page
    md = (out / "feedback" / "148319.md").read_text(encoding="utf-8")
    assert "| q02 |" in md and "ceil(192000/1920) = 100" in md and "#q02" in md
    # a folder of `hw10 report` is linked relative to the pages; anything else is refused before any work
    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text("<p>evidence</p>", encoding="utf-8")
    out2 = tmp_path / "out2"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(ROOT / "keys" / "structural.yaml"), "--out",
                 str(out2), "--allow-pending", "--evidence-report", str(report)]) == 0
    assert 'href="../../report/index.html#q01"' in (out2 / "feedback" / "148319.html").read_text(encoding="utf-8")
    for bad in ("ftp://x/y", str(tmp_path / "nowhere"), "https://x/a b"):
        capsys.readouterr()
        assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(ROOT / "keys" / "structural.yaml"), "--out",
                     str(tmp_path / "o3"), "--allow-pending", "--evidence-report", bad]) == 2
        assert "--evidence-report" in capsys.readouterr().err and not (tmp_path / "o3").exists()


def test_a_reviewed_answer_says_a_ta_decided_it_and_why(tmp_path, bank):
    from dataclasses import replace

    from grader.key import ClaimReview
    from grader.readers.formats import read_submissions as read
    from grader.sheet import grade_roster as grade

    key = load_key(SAMPLE / "key.yaml", bank)
    a = key.answers["q07"]
    key.answers["q07"] = replace(a, status="reviewed", evidence={"summary": "PESQ english 2.28, chinese 2.27"},
                                 review=[ClaimReview(option=x, verdict="true" if x == "C" else "false",
                                                     decided_by="ta" if x == "C" else "evidence",
                                                     note="a faint hiss; every word clear" if x == "C" else None,
                                                     who="TA Lin" if x == "C" else None,
                                                     when="2026-12-04T10:00:00+00:00" if x == "C" else None)
                                         for x in bank["q07"].letters])
    sheet = grade(read(SAMPLE / "export.csv", bank), bank, key)
    html, _ = FeedbackRenderer(sheet, 4).render(sheet.results[0])
    assert "reviewed by a TA (TA Lin): C true — a faint hiss; every word clear. Evidence: PESQ english 2.28" in \
        html.decode("utf-8")
