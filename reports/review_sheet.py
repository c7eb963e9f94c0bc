"""The listening sheet of ``hw10 review``: per question in review, its open claims with the numbers and the
threshold each missed, next to the audio to compare and the plots, in Chinese and English; plus the decisions
file the TA fills. The folder is self-contained (media copied under ``media/<qid>/``)."""
from __future__ import annotations

import shutil
from pathlib import Path

from grader.errors import InputError
from grader.key import AnswerKey
from grader.review import decisions_template
from grader.spec import QuestionBank
from reports.evidence_report import AUDIO_SUFFIXES, question_view
from reports.render import environment

__all__ = ["GENERATOR", "render_review_sheet"]

GENERATOR = '<meta name="generator" content="hw10 review">'
"""Marks a sheet's index.html as written by hw10 (only then may its media/ be replaced)."""


def _originals(bank: QuestionBank, qid: str, assets: Path | None, out_dir: Path) -> list[dict[str, str]]:
    """The question's own clips from the assets folder (what the decodes are compared with), copied into the sheet."""
    out: list[dict[str, str]] = []
    if assets is None:
        return out
    for name in bank[qid].check.assets:
        src = assets / name
        if not src.is_file() or src.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        dst = out_dir / "media" / qid / "original" / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        out.append({"name": f"original: {src.name}", "src": dst.relative_to(out_dir).as_posix()})
    return out


def render_review_sheet(bank: QuestionBank, key: AnswerKey, key_text: str, out_dir: Path,
                        evidence_dir: Path | None, key_name: str = "", assets: Path | None = None) -> tuple[Path, Path]:
    """Write ``out_dir/index.html`` (+ ``media/``) and ``out_dir/decisions.yaml``; returns both paths. With ``assets``
    (the Colab's files) each question's original clips play next to the decodes. A ``decisions.yaml`` already there
    that a TA has filled in is never overwritten (an :class:`InputError`)."""
    decisions = out_dir / "decisions.yaml"
    template = decisions_template(bank, key, key_text)
    if decisions.is_file() and decisions.read_text(encoding="utf-8", errors="replace") != template:
        raise InputError("holds decisions that differ from a fresh sheet's (a TA's work?): apply them with "
                         "`hw10 review KEY --decisions FILE --out KEY2`, or choose another --out", file=str(decisions))
    media = out_dir / "media"
    page = out_dir / "index.html"
    ours = page.is_file() and GENERATOR in page.read_text(encoding="utf-8", errors="replace")
    if (media.exists() or page.exists()) and not ours:
        raise InputError("holds an index.html or media/ that hw10 review did not write: choose another --out (an "
                         "empty or new folder)", file=str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    if media.exists():
        shutil.rmtree(media)  # an earlier sheet's clips and plots (this folder's index.html says hw10 wrote them)
    questions = [question_view(bank, key, q, evidence_dir, out_dir) for q in key.in_review]
    for q in questions:
        q["audio"] = _originals(bank, q["id"], assets, out_dir) + q["audio"]
    html = environment().get_template("review_sheet.html.j2").render(
        questions=questions, key_name=key_name, bank_sha=key.questions_sha256[:16],
        reviewed=key.reviewed)
    page.write_text(html, encoding="utf-8")
    decisions.write_text(template, encoding="utf-8")
    return page, decisions
