"""The key's evidence report: per question the decision, every option's verdict with its numbers,
the plots and audio the checks wrote, and the provenance. Rendered from an answer key (which
carries each question's evidence) plus the evidence folder of ``hw10 key --evidence-dir``.

The report folder is self-contained: artifacts are copied under ``media/<qid>/``.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from grader.key import AnswerKey
from grader.spec import QuestionBank

from .render import _provenance_lines, environment

IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg")
AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac")
VERDICT_MARK = {"true": "✓ true", "false": "✗ false", "undecided": "? undecided"}


def _artifacts(evidence_dir: Path | None, qid: str, out_dir: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Copy one question's images and audio into the report folder; (images, audio) in name order."""
    images: list[dict[str, str]] = []
    audio: list[dict[str, str]] = []
    if evidence_dir is None:
        return images, audio
    src = evidence_dir / qid
    if not src.is_dir():
        return images, audio
    dst = out_dir / "media" / qid
    for f in sorted(src.rglob("*")):
        if not f.is_file():
            continue
        suffix = f.suffix.lower()
        if suffix not in IMAGE_SUFFIXES + AUDIO_SUFFIXES:
            continue
        rel = f.relative_to(src)
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
        entry = {"src": f"media/{qid}/{rel.as_posix()}", "name": rel.as_posix()}
        (images if suffix in IMAGE_SUFFIXES else audio).append(entry)
    return images, audio


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
                  out_dir: Path) -> dict[str, Any]:
    """The template's view of one question in the evidence report: stem, status, the key's evidence (summary, notes,
    margin, measured values as YAML, thresholds), each option's verdict and claim, and the plots and audio copied
    into ``out_dir`` (none when the evidence folder belongs to another run)."""
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
            "open": o.id in open_ids,
            "ta": f"{r.verdict}: {r.note} ({r.who}, {r.when})" if r is not None else ""})
    mismatch = _evidence_mismatch(evidence_dir, qid, ev)
    images, audio = ([], []) if mismatch else _artifacts(evidence_dir, qid, out_dir)
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


def render_evidence_report(bank: QuestionBank, key: AnswerKey, out_dir: Path,
                           evidence_dir: Path | None = None, key_name: str = "") -> Path:
    """Write ``out_dir/index.html`` (+ ``media/``); returns the page's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    media = out_dir / "media"
    if media.exists():
        shutil.rmtree(media)
    questions = [question_view(bank, key, q, evidence_dir, out_dir) for q in bank.ids]
    counts = {s: sum(1 for q in questions if q["status"] == s)
              for s in ("computed", "asserted", "reviewed", "review", "pending")}
    html = environment().get_template("evidence_report.html.j2").render(
        questions=questions, counts=counts, key_name=key_name, provenance=_provenance_lines(key.provenance),
        bank_sha=key.questions_sha256[:16], from_fixtures=key.from_fixtures)
    page = out_dir / "index.html"
    page.write_text(html, encoding="utf-8")
    return page
