"""The documentation is current: the generated pages (docs/cli.md from the parsers, docs/benchmarks.md from
checks/bench/measured.py) match what ``tools/make_docs.py`` writes now, README.md stays a front page whose first code
block is the two start commands, and every relative link in README.md and docs/*.md leads to a file."""
from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
START = [
    "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/hw10 grade fixtures/sample_class/export.csv "
    "--key fixtures/sample_class/key.yaml --out out/sample",
    "bash tools/test.sh",
]


def _make_docs():
    spec = importlib.util.spec_from_file_location("make_docs", ROOT / "tools" / "make_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_pages_are_current():
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "make_docs.py"), "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout


def test_a_changed_help_text_makes_the_cli_page_stale(monkeypatch):
    make_docs = _make_docs()
    real = argparse.ArgumentParser.add_argument

    def changed(self, *args, **kwargs):
        if "--decimals" in args:
            kwargs["help"] = "decimals written for points (now a different text)"
        return real(self, *args, **kwargs)

    monkeypatch.setattr(argparse.ArgumentParser, "add_argument", changed)
    text = make_docs.render_cli()
    assert "now a different text" in text
    assert make_docs.stale(make_docs.CLI_PAGE, text)


def test_check_names_the_stale_page(tmp_path, monkeypatch, capsys):
    make_docs = _make_docs()
    page = tmp_path / "benchmarks.md"
    page.write_text("# an old page\n", encoding="utf-8")
    monkeypatch.setattr(make_docs, "BENCH_PAGE", page)
    monkeypatch.setattr(make_docs, "ROOT", tmp_path.parent)
    monkeypatch.setattr(make_docs, "pages", lambda: {page: make_docs.render_benchmarks()})
    assert make_docs.main(["--check"]) == 1
    assert "benchmarks.md" in capsys.readouterr().err
    assert page.read_text(encoding="utf-8") == "# an old page\n"  # --check writes nothing


def test_benchmarks_page_holds_every_record():
    make_docs = _make_docs()
    from checks.bench import measured

    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    for name, record, _ in make_docs._records():
        assert f"`{name}`" in text and record.when in text and record.command in text
    assert measured.GPU_H200 is not None and "floor" in text and "upper bound" in text


def test_readme_is_a_front_page_starting_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    first = re.search(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    assert first is not None, "README.md has no code block"
    assert [line.strip() for line in first.group(1).splitlines() if line.strip()] == START


def _links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # code blocks hold no links
    return re.findall(r"\]\(([^)\s]+)\)", text)


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file: lower case, punctuation dropped, spaces as hyphens,
    a repeated heading numbered."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def test_anchors_follow_githubs_rule():
    assert {"answer-keys-hw10-key1", "match-pins---match", "hw10-manifestjson", "one-students-answers"} <= \
        anchors(ROOT / "docs" / "reference.md")


@pytest.mark.parametrize("path", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_file(path):
    broken = []
    for link in _links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", link, re.I):  # https:, mailto:
            continue
        target, _, fragment = link.partition("#")
        file = path.parent / target if target else path
        if not file.exists():
            broken.append(link)
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{link} (no such heading)")
    assert not broken, f"{path.name}: links to nothing: {', '.join(broken)}"


def test_the_docs_pages_exist():
    names = {p.name for p in DOCS}
    assert {"ta-guide.md", "student-guide.md", "reference.md", "cli.md", "benchmarks.md", "design.md",
            "CHANGELOG.md"} <= names
