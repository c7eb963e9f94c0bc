"""The HTML reports open in a real browser (headless Chromium) without errors or broken media."""
import shutil

import browser
import pytest
from conftest import ROOT, SAMPLE, make_key

from grader.key import write_key
from hw10.cli import main
from reports.evidence_report import render_evidence_report

pytestmark = [pytest.mark.slow,  # the first page costs a browser start
              pytest.mark.skipif(not browser.available(),
                                 reason="Debian chromium is not installed (tools/test.sh installs it)")]


def evidence_with_media(tmp_path):
    """An evidence folder like `hw10 key --evidence-dir` writes: a real PNG plot and real WAVs."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ev = tmp_path / "evidence"
    (ev / "q09").mkdir(parents=True)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [3, 1, 2])
    fig.savefig(ev / "q09" / "wer_heatmap.png")
    plt.close(fig)
    shutil.copyfile(ROOT / "fixtures" / "voices" / "q09_B.wav", ev / "q09" / "best_order.wav")
    shutil.copyfile(ROOT / "fixtures" / "assets" / "alice.wav", ev / "q09" / "worst_order.wav")
    return ev


def key_with_q09_evidence(bank, **kwargs):
    key = make_key(bank, **kwargs)
    key.answers["q09"].evidence = {"summary": "best order [2, 0, 3, 1]: WER 0.05 vs B", "verdicts": {
        "A": {"verdict": "false", "why": "WER 0.71 > 0.35", "margin": -0.36},
        "B": {"verdict": "true", "why": "WER 0.05 <= 0.35", "margin": 0.3}}, "measured": {"orders": 24}}
    return key


def test_evidence_report_opens_cleanly_with_plots_and_audio(tmp_path, bank):
    key = key_with_q09_evidence(bank, pending=("q11",), status="computed")
    page = render_evidence_report(bank, key, tmp_path / "report", evidence_with_media(tmp_path), "key.yaml")
    rep = browser.inspect_page(page, screenshot=tmp_path / "report.png")
    assert rep.problems == []
    assert rep.images == 1 and rep.audio == 2
    html = page.read_text(encoding="utf-8")
    assert "WER 0.05 &lt;= 0.35" in html and "Pending:" in html and 'id="q12"' in html
    # the appendix's Markdown escapes are not shown to people (q10 D: "在 split\_index = 2 時")
    assert "split_index = 2" in html and "split\\_index" not in html


def test_broken_media_is_caught(tmp_path, bank):
    """The browser check itself must fail on a broken file (else it could never fail)."""
    ev = evidence_with_media(tmp_path)
    (ev / "q09" / "best_order.wav").write_bytes(b"RIFF\x00\x00not really a wav")
    (ev / "q09" / "wer_heatmap.png").write_bytes(b"\x89PNG broken")
    page = render_evidence_report(bank, key_with_q09_evidence(bank), tmp_path / "report", ev, "key.yaml")
    rep = browser.inspect_page(page)
    assert any("best_order.wav" in p for p in rep.broken_audio)
    assert any("wer_heatmap.png" in p for p in rep.broken_images)


def test_class_report_and_feedback_open_cleanly(tmp_path, bank):
    out = tmp_path / "out"
    assert main(["grade", str(SAMPLE / "export.csv"), "--key", str(SAMPLE / "key.yaml"), "--out", str(out)]) == 0
    for page in (out / "report.html", out / "feedback" / "148319.html"):
        rep = browser.inspect_page(page)
        assert rep.problems == [], page
    assert browser.inspect_page(out / "report.html").images == 13  # histogram + one option chart per question


def test_report_command(tmp_path, bank, capsys):
    key = tmp_path / "k.yaml"
    write_key(key_with_q09_evidence(bank, pending=("q05",)), key)
    ev = evidence_with_media(tmp_path)
    assert main(["report", "--key", str(key), "--evidence-dir", str(ev), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "media" / "q09" / "best_order.wav").exists()
    # media of another run are never shown under this key's answers
    (ev / "q09.yaml").write_text("question: q09\nsummary: another run's summary\n", encoding="utf-8")
    assert main(["report", "--key", str(key), "--evidence-dir", str(ev), "--out", str(tmp_path / "r")]) == 0
    assert not (tmp_path / "r" / "media" / "q09").exists()
    assert "describes another run than this key" in (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    bare = tmp_path / "bare.yaml"
    write_key(make_key(bank), bare)  # typed-in answers, no evidence at all
    assert main(["report", "--key", str(bare), "--evidence-dir", str(ev), "--out", str(tmp_path / "r2")]) == 0
    assert not (tmp_path / "r2" / "media" / "q09").exists()
    assert "this key has no evidence for the question" in (tmp_path / "r2" / "index.html").read_text(encoding="utf-8")
    args = ["report", "--key", str(key), "--evidence-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "r")]
    assert main(args) == 2


def test_review_sheet_opens_cleanly_with_its_clips_and_plot(tmp_path, bank):
    """The TA's listening sheet: every clip plays (each original next to its decode) and the plot loads in a real
    browser, with no console errors."""
    from review_kit import review_key

    key_path, evidence = review_key(bank, tmp_path)
    sheet = tmp_path / "sheet"
    assets = ROOT / "fixtures" / "assets"
    assert main(["review", str(key_path), "--evidence-dir", str(evidence), "--assets", str(assets),
                 "--out", str(sheet)]) == 0
    rep = browser.inspect_page(sheet / "index.html", screenshot=tmp_path / "sheet.png")
    assert rep.problems == []
    assert rep.audio == 4 and rep.images == 1
    assert "original: English_speech.wav" in (sheet / "index.html").read_text(encoding="utf-8")
