"""The listening sheet of ``hw10 review``: per question in review (or opened by the TA), every option with the
evidence's verdict and numbers, the open claims first in view, next to the audio to compare and the plots, in
Chinese and English; plus the decisions file the TA fills. The folder is self-contained (media copied under
``media/<qid>/``) and written as hw10 writes every output folder (:func:`reports.evidence_report.write_page_folder`):
a decisions file a TA has filled in is never overwritten."""
from __future__ import annotations

import os
from pathlib import Path

from grader.errors import InputError
from grader.key import AnswerKey
from grader.review import check_openable, decisions_template
from grader.spec import QuestionBank
from reports.evidence_report import AUDIO_SUFFIXES, question_view, write_page_folder
from reports.render import environment

__all__ = ["render_review_sheet"]


def _originals(bank: QuestionBank, qid: str, assets: Path | None,
               media: list[tuple[str, Path]]) -> list[dict[str, str]]:
    """The question's own clips from the assets folder (what the decodes are compared with), to copy into the
    sheet (added to ``media``); links are never followed."""
    out: list[dict[str, str]] = []
    if assets is None:
        return out
    for name in bank[qid].check.assets:
        src = assets / name
        if src.is_symlink() or not src.is_file() or src.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        rel = f"media/{qid}/original/{src.name}"
        media.append((rel, src))
        out.append({"name": f"original: {src.name}", "src": rel})
    return out


def _filled_by_a_ta(decisions: Path, template: str) -> bool:
    """Whether the sheet folder's decisions file (a regular file, never followed through a link) differs from a
    fresh one: a TA's work."""
    try:
        fd = os.open(decisions, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    with os.fdopen(fd, "rb") as f:
        return f.read(len(template.encode("utf-8")) + 1).decode("utf-8", errors="replace") != template


def render_review_sheet(bank: QuestionBank, key: AnswerKey, key_text: str, out_dir: Path,
                        evidence_dir: Path | None, key_name: str = "", assets: Path | None = None,
                        opened: tuple[str, ...] = (), inputs: tuple[Path | None, ...] = ()) -> tuple[Path, Path]:
    """Write ``out_dir/index.html`` (+ ``media/``) and ``out_dir/decisions.yaml`` for the questions in review and
    the ``opened`` ones; returns both paths. With ``assets`` (the Colab's files) each question's original clips play
    next to the decodes. A decisions file already there that a TA has filled in is never overwritten, nor anything
    else hw10 did not write (an :class:`InputError`); ``inputs`` (the key) must not lie inside ``out_dir``."""
    decisions = out_dir / "decisions.yaml"
    opened = tuple(check_openable(key, opened, "--open"))
    template = decisions_template(bank, key, key_text, opened)
    if _filled_by_a_ta(decisions, template):
        raise InputError("holds decisions that differ from a fresh sheet's (a TA's work?): apply them with "
                         "`hw10 review KEY --decisions FILE --out KEY2`, or choose another --out", file=str(decisions))
    media: list[tuple[str, Path]] = []
    questions = []
    for qid in sorted(set(key.in_review) | set(opened)):
        q = question_view(bank, key, qid, evidence_dir, media)
        q["audio"] = _originals(bank, qid, assets, media) + q["audio"]
        q["opened"] = qid in opened and qid not in key.in_review
        questions.append(q)
    html = environment().get_template("review_sheet.html.j2").render(
        questions=questions, key_name=key_name, bank_sha=key.questions_sha256[:16],
        reviewed=key.reviewed, opened=[q for q in opened if q not in key.in_review])
    page = write_page_folder(out_dir, html, media, extra={"decisions.yaml": template}, inputs=inputs,
                             folders=(evidence_dir, assets))
    return page, decisions
