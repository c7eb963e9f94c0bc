"""The key's evidence report: per question the decision, every option's verdict with its numbers,
the plots and audio the checks wrote, and the provenance. Rendered from an answer key (which
carries each question's evidence) plus the evidence folder of ``hw10 key --evidence-dir``.

The report folder is self-contained: artifacts are copied under ``media/<qid>/``. It is written as hw10 writes
every output folder (:func:`write_page_folder`): never over a file hw10 did not write.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from grader.errors import InputError
from grader.key import AnswerKey
from grader.onefile import read_regular
from grader.outfolder import OutputFolder
from grader.spec import QuestionBank

from .render import _provenance_lines, environment, override_lines

IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg")
AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac")
VERDICT_MARK = {"true": "✓ true", "false": "✗ false", "undecided": "? undecided"}


def evidence_files(evidence_dir: Path | None, qid: str) -> list[tuple[str, Path]]:
    """One question's plots and audio in the evidence folder, in name order: ``(path in the page's folder, file)``
    with the page's path under ``media/<qid>/``. Symbolic links are never followed (a link planted there would
    publish whatever it points to)."""
    src = None if evidence_dir is None else evidence_dir / qid
    if src is None or src.is_symlink() or not src.is_dir():
        return []
    found = []
    for folder, dirs, files in os.walk(src, followlinks=False):
        dirs.sort()
        for name in files:
            f = Path(folder) / name
            if f.suffix.lower() in IMAGE_SUFFIXES + AUDIO_SUFFIXES and not f.is_symlink() and f.is_file():
                found.append((f"media/{qid}/{f.relative_to(src).as_posix()}", f))
    return sorted(found)


def _artifacts(evidence_dir: Path | None, qid: str,
               media: list[tuple[str, Path]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """One question's images and audio for the page, (images, audio) in name order; the files to copy into the
    page's folder are added to ``media``."""
    images: list[dict[str, str]] = []
    audio: list[dict[str, str]] = []
    for rel, f in evidence_files(evidence_dir, qid):
        media.append((rel, f))
        entry = {"src": rel, "name": rel.split("/", 2)[2]}
        (images if f.suffix.lower() in IMAGE_SUFFIXES else audio).append(entry)
    return images, audio


def write_page_folder(out_dir: Path, page: str, media: list[tuple[str, Path]], *, extra: dict[str, str] | None = None,
                      inputs: tuple[Path | None, ...] = (), folders: tuple[Path | None, ...] = ()) -> Path:
    """Write a self-contained page folder as hw10 writes every output folder (:class:`grader.outfolder.OutputFolder`:
    never over a file hw10 did not write or one edited since, never through a link, all or nothing):
    ``index.html`` holding ``page``, the ``media`` files copied in (read without following links) and ``extra``
    text files. Refused, before anything is written: an input file (``inputs``) inside ``out_dir``, and a folder
    read from (``folders``, e.g. the evidence folder) inside ``out_dir`` or holding it."""
    out = out_dir.absolute()
    for folder in folders:
        if folder is None:
            continue
        f = folder.absolute()
        if f == out or f in out.parents or out in f.parents:
            raise InputError(f"the output folder and the folder read from ({folder}) must not lie inside each other: "
                             "writing one would change the other; choose another --out", file=str(out_dir))
    with OutputFolder(out_dir, inputs=inputs) as o:
        o.write_text("index.html", page)
        for name, text in (extra or {}).items():
            o.write_text(name, text)
        for rel, f in media:
            o.write_bytes(rel, read_regular(f))
        o.commit()
    return out_dir / "index.html"


def _fmt_margin(m: Any, verdict: str = "", fact: bool = False) -> str:
    """A verdict's margin to its threshold; without one: ``cited`` (a fact claim), ``—`` (undecided, e.g. held
    back by a gate) or ``exact`` (an integer/label equality)."""
    if m is None:
        return "cited" if fact else "—" if verdict == "undecided" else "exact"
    try:
        return f"{float(m):+.3g}"
    except (TypeError, ValueError):
        return str(m)


def _evidence_mismatch(evidence_dir: Path | None, qid: str, ev: dict[str, Any]) -> str | None:
    """Why ``evidence_dir``'s files for ``qid`` do not belong to this key's evidence, or None.

    `hw10 key` writes ``evidence_dir/<qid>.yaml`` next to the question's folder; its summary must be the
    key's. A key answer without evidence (typed in, pending) gets no media at all."""
    if evidence_dir is None or not (evidence_dir / qid).is_dir():
        return None
    if not ev:
        return "this key has no evidence for the question, so the evidence folder's files are not shown"
    record = evidence_dir / f"{qid}.yaml"
    if record.is_file():
        try:
            theirs = (yaml.safe_load(record.read_text(encoding="utf-8")) or {}).get("summary")
        except (OSError, yaml.YAMLError, AttributeError):
            theirs = None
        if theirs != ev.get("summary"):
            return (f"{record.name} in the evidence folder describes another run than this key, so its plots and "
                    "audio are not shown")
    return None


def question_view(bank: QuestionBank, key: AnswerKey, qid: str, evidence_dir: Path | None,
                  media: list[tuple[str, Path]]) -> dict[str, Any]:
    """The template's view of one question in the evidence report: stem, status, the key's evidence (summary, notes,
    margin, measured values as YAML, thresholds), each option's verdict and claim (and a TA's verdict beside it,
    marked when it overrides the evidence), and the plots and audio to copy into the page's folder (added to
    ``media``; none when the evidence folder belongs to another run)."""
    spec = bank[qid]
    a = key.answer(qid)
    ev = a.evidence if isinstance(a.evidence, dict) else {}
    verdicts = ev.get("verdicts") or {}
    by_ta = {r.option: r for r in a.review if r.decided_by == "ta"}
    open_ids = {c.option for c in a.open_claims}
    options = []
    for o in spec.options:
        v = verdicts.get(o.id) or {}
        r = by_ta.get(o.id)
        fact = bool(o.claim and o.claim.decided_by == "fact")
        options.append({
            "id": o.id, "text": o.text, "text_en": o.text_en, "keyed": o.id in a.correct,
            "verdict": v.get("verdict", ""), "mark": VERDICT_MARK.get(v.get("verdict", ""), "—"),
            "why": v.get("why", ""), "margin": _fmt_margin(v.get("margin"), v.get("verdict", ""), fact) if v else "",
            "claim": o.claim.rule if o.claim else "", "source": o.claim.source if o.claim and o.claim.source else "",
            "open": o.id in open_ids, "override": bool(r is not None and r.override),
            "ta": f"{r.verdict}: {r.note} ({r.who}, {r.when})" if r is not None else ""})
    mismatch = _evidence_mismatch(evidence_dir, qid, ev)
    images, audio = ([], []) if mismatch else _artifacts(evidence_dir, qid, media)
    notes = list(ev.get("notes") or []) + ([mismatch] if mismatch else [])
    measured = ev.get("measured")
    return {
        "id": qid, "title": spec.title, "kind": spec.kind, "stem": spec.stem, "stem_en": spec.stem_en,
        "status": a.status, "level": a.level or "", "correct": a.correct, "reason": a.reason or "",
        "fragile": a.fragile, "summary": ev.get("summary", ""), "notes": notes,
        "margin": _fmt_margin(ev.get("margin")) if "margin" in ev else "",
        "options": options, "images": images, "audio": audio,
        "thresholds": [(k, v) for k, v in spec.thresholds.items()],
        "measured_yaml": yaml.safe_dump(measured, allow_unicode=True, sort_keys=False, width=100) if measured else "",
    }


def render_evidence_report(bank: QuestionBank, key: AnswerKey, out_dir: Path, evidence_dir: Path | None = None,
                           key_name: str = "", inputs: tuple[Path | None, ...] = ()) -> Path:
    """Write ``out_dir/index.html`` (+ ``media/``) as :func:`write_page_folder` writes a folder (``inputs``: the files
    read, e.g. the key, which must not lie inside it); returns the page's path."""
    media: list[tuple[str, Path]] = []
    questions = [question_view(bank, key, q, evidence_dir, media) for q in bank.ids]
    counts = {s: sum(1 for q in questions if q["status"] == s)
              for s in ("computed", "asserted", "reviewed", "review", "pending")}
    html = environment().get_template("evidence_report.html.j2").render(
        questions=questions, counts=counts, key_name=key_name, provenance=_provenance_lines(key.provenance),
        bank_sha=key.questions_sha256[:16], from_fixtures=key.from_fixtures, overrides=override_lines(key))
    return write_page_folder(out_dir, html, media, inputs=inputs, folders=(evidence_dir,))

