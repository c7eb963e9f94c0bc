"""``hw10 upload``: post the totals of ``hw10 grade``'s scores.csv (and, asked, each student's feedback as a
submission comment) to an NTU COOL assignment — a dry-run diff first, always.

Before anything is asked of Canvas, the output folder must be one ``hw10 grade`` wrote and nobody changed since
(its manifest, :func:`grader.outfolder.read_meta`), graded with the very key given (``--key``: its SHA-256 is in
the manifest), a key with no pending, in-review or fixture answers that is not the shipped sample key (totals out
of less than the full points, from test checkpoints or from the sample are never posted). Then the assignment must
belong to the course, and its current grades are fetched (``GET …/assignments/:id/submissions?include[]=user``, and
``include[]=submission_comments`` with ``--comments``) to print the diff: who changes from what to what, who is
unchanged, who is *excused* (Canvas: ``excused: true``, a null score; posting a score would end the excusal, so
they are listed and left alone unless ``--include-excused``), who is in scores.csv but not in the course and who
is in the course but not in scores.csv. Only ``--yes`` posts: one ``POST …/submissions/update_grades`` with
``grade_data[<user id>][posted_grade]`` (and ``[text_comment]`` with ``--comments``, for every student whose
identical comment is not already there) for the students whose grade changes; the returned progress is polled
until Canvas finishes, the grades are read back, and ``upload-receipt.json`` is added to the folder: when, the
token's user, course, assignment, the key's and scores.csv's hashes, every student posted with old and new grade
and whether Canvas now shows it, the progress id and its final state. A receipt for the same key, scores and
assignment refuses a second upload unless ``--force``.

``update_grades`` is not idempotent (a resent POST adds every comment again), so the POST is never resent: when
its answer is lost (timeout, dropped connection) or is a 5xx, the submissions are read back (until they stop
changing: Canvas applies the post in a background job) and only the grades and comments that did not arrive are
posted, in a new POST, at most :data:`MAX_ROUNDS` times.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable

from grader.errors import InputError
from grader.key import load_key
from grader.outfolder import add_file, file_sha256, read_meta
from grader.spec import QuestionBank

from .client import Canvas, CanvasError, CanvasUnsure

RECEIPT = "upload-receipt.json"
MAX_ROUNDS = 3
"""POSTs at most in one upload (the first and those of what did not arrive after a lost answer)."""


@dataclass(frozen=True)
class Change:
    """One student's grade, before and after."""

    user_id: str
    name: str
    old: str | None
    """Canvas's current score (``None``: no grade yet, or excused)."""
    new: str
    excused: bool = False
    """Excused on Canvas now (posting a score ends the excusal)."""


@dataclass
class Plan:
    """The dry-run diff."""

    assignment: str
    points_possible: float | None
    changes: list[Change] = field(default_factory=list)
    unchanged: list[Change] = field(default_factory=list)
    excused: list[Change] = field(default_factory=list)
    """Excused on Canvas and left alone (without ``--include-excused``)."""
    not_in_course: list[tuple[str, str]] = field(default_factory=list)
    """(id, name) in scores.csv but with no submission in the assignment (not enrolled)."""
    not_graded_here: list[tuple[str, str]] = field(default_factory=list)
    """(id, name) in the course but not in scores.csv."""
    to_check: list[str] = field(default_factory=list)
    """Ids whose scores.csv status is ``check`` (a cell hw10 could not read): look before posting."""
    comments_there: set[str] = field(default_factory=set)
    """Ids whose identical feedback comment is already on Canvas (never posted again)."""

    def text(self) -> str:
        """The diff as the TA reads it."""
        lines = [f"assignment {self.assignment!r}" + (f" ({self.points_possible:g} points)"
                                                      if isinstance(self.points_possible, (int, float)) else ""),
                 f"  {len(self.changes)} grade(s) change, {len(self.unchanged)} unchanged"]
        lines += [f"  {c.user_id} {c.name}: {'excused' if c.excused else c.old if c.old is not None else '(no grade)'}"
                  f" → {c.new}" for c in self.changes]
        if self.excused:
            lines.append(f"  excused on NTU COOL ({len(self.excused)}, not posted: a score would end the excusal; "
                         "--include-excused posts over them): "
                         + ", ".join(f"{c.user_id} {c.name} (would be {c.new})" for c in self.excused))
        if self.comments_there:
            lines.append(f"  feedback comment already on NTU COOL ({len(self.comments_there)}, not posted again)")
        if self.not_in_course:
            lines.append(f"  in scores.csv but not in the course ({len(self.not_in_course)}, not posted): "
                         + ", ".join(f"{i} {n}" for i, n in self.not_in_course))
        if self.to_check:
            lines.append(f"  status 'check' in scores.csv ({len(self.to_check)}: a cell could not be read; see "
                         f"report.html before posting): " + ", ".join(self.to_check))
        if self.not_graded_here:
            lines.append(f"  in the course but not in scores.csv ({len(self.not_graded_here)}, left as they are): "
                         + ", ".join(f"{i} {n}" for i, n in self.not_graded_here))
        return "\n".join(lines)


def check_graded_folder(folder: Path, key_path: Path, bank: QuestionBank) -> tuple[dict, list[dict[str, str]]]:
    """The folder's manifest meta and scores.csv rows, after the refusals of the module docstring."""
    meta = read_meta(folder)
    if meta.get("command") != "grade" or "key_sha256" not in meta:
        raise InputError("was not written by hw10 grade (its manifest names no key)", file=str(folder))
    if file_sha256(key_path) != meta["key_sha256"]:
        raise InputError(f"scores.csv in {folder} was graded with another key ({meta.get('key')}), not with this one; "
                         "grade again with it, or pass the key the folder was graded with", file=str(key_path))
    key = load_key(key_path, bank)
    if str((key.provenance or {}).get("kind", "")).strip().lower() == "sample":
        raise InputError("is the SAMPLE key shipped with hw10 (provenance kind: sample), not the homework's answers: "
                         "totals from it are not the course's grades and are never posted", file=str(key_path))
    for what, qids in (("pending", key.pending), ("waiting for a TA's review", key.in_review),
                       ("computed from hw10 test fixtures", key.from_fixtures)):
        if qids:
            raise InputError(f"the key's {', '.join(qids)} {'are' if len(qids) > 1 else 'is'} {what}: totals from it "
                             "are not the course's grades and are never posted", file=str(key_path))
    rows = list(csv.DictReader(io.StringIO((folder / "scores.csv").read_bytes().decode("utf-8-sig"))))
    return meta, rows


def _submissions(canvas: Canvas, course: int, assignment: int, comments: bool) -> dict[str, dict]:
    # shape: lib/api/v1/submission.rb (submission_json: user_id, score, grade, excused, submission_comments)
    params = [("include[]", "user")] + ([("include[]", "submission_comments")] if comments else [])
    subs = canvas.get_all(f"/api/v1/courses/{course}/assignments/{assignment}/submissions", params,
                          what=f"the grades of assignment {assignment}")
    return {str(s.get("user_id")): s for s in subs if isinstance(s, dict)}


def plan(canvas: Canvas, course: int, assignment: int, rows: list[dict[str, str]], *, include_excused: bool = False,
         comments: dict[str, str] | None = None) -> tuple[Plan, dict]:
    """The diff between scores.csv and the assignment's current grades, and the assignment as Canvas describes it;
    ``comments`` (id → feedback text): the comments to be posted, to find those already there."""
    info = canvas.get_json(f"/api/v1/courses/{course}/assignments/{assignment}",
                           what=f"assignment {assignment} of course {course}")
    if not isinstance(info, dict):
        raise CanvasError(f"assignment {assignment}: NTU COOL answered something that is not an assignment")
    if str(info.get("course_id", course)) != str(course):
        raise CanvasError(f"assignment {assignment} belongs to course {info.get('course_id')}, not {course}")
    current = _submissions(canvas, course, assignment, comments is not None)
    p = Plan(str(info.get("name", assignment)), info.get("points_possible"))
    ours = set()
    for r in rows:
        uid, name, new = r["id"].strip(), r.get("name", ""), r["total"]
        ours.add(uid)
        if r.get("status") == "check":
            p.to_check.append(uid)
        if uid not in current:
            p.not_in_course.append((uid, name))
            continue
        sub = current[uid]
        if comments is not None and _comment_there(sub, comments.get(uid, "")):
            p.comments_there.add(uid)
        old = sub.get("score")
        change = Change(uid, name, None if old is None else _fmt(old), new, excused=sub.get("excused") is True)
        if change.excused:
            (p.changes if include_excused else p.excused).append(change)
        else:
            (p.unchanged if old is not None and _same(old, new) else p.changes).append(change)
    for uid, s in current.items():
        if uid not in ours:
            p.not_graded_here.append((uid, str((s.get("user") or {}).get("name", ""))))
    return p, info


def receipt_identity(meta: dict, scores_sha: str, canvas: Canvas, course: int, assignment: int) -> dict:
    """What makes two uploads the same upload."""
    return {"canvas": canvas.base, "course": course, "assignment": assignment, "key_sha256": meta["key_sha256"],
            "scores_sha256": scores_sha}


def upload(canvas: Canvas, course: int, assignment: int, folder: Path, key_path: Path, bank: QuestionBank, *,
           yes: bool = False, comments: bool = False, force: bool = False, include_excused: bool = False,
           wait_s: float = 600.0, poll_s: float = 2.0, settle_s: float = 30.0,
           progress: Callable[[str], None] = lambda text: None,
           now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.timezone.utc)
           ) -> tuple[Plan, dict | None]:
    """The dry-run :class:`Plan`, and with ``yes`` the receipt of what was posted (module docstring)."""
    meta, rows = check_graded_folder(folder, key_path, bank)
    scores_sha = file_sha256(folder / "scores.csv")
    identity = receipt_identity(meta, scores_sha, canvas, course, assignment)
    pages = feedback_texts(folder, rows) if comments else None
    p, _ = plan(canvas, course, assignment, rows, include_excused=include_excused, comments=pages)
    if not yes:
        return p, None
    old_receipt = folder / RECEIPT
    if old_receipt.exists() and not force:
        try:
            before = json.loads(old_receipt.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            before = {}
        if isinstance(before, dict) and all(before.get(k) == v for k, v in identity.items()):
            raise InputError(f"these grades were already posted ({before.get('time')}, {RECEIPT}); pass --force to "
                             "post them again", file=str(folder))
    posted = list(p.changes) + ([c for c in p.unchanged if c.user_id not in p.comments_there] if comments else [])
    todo: dict[str, dict[str, str]] = {}
    for c in posted:
        todo[c.user_id] = {"posted_grade": c.new}
        if pages and pages.get(c.user_id) and c.user_id not in p.comments_there:
            todo[c.user_id]["text_comment"] = pages[c.user_id]
    me = canvas.get_json("/api/v1/users/self", what="the token's user")
    me = me if isinstance(me, dict) else {}
    state, job, lost = "nothing to post", None, 0
    where = f"/api/v1/courses/{course}/assignments/{assignment}/submissions/update_grades"
    while todo:
        data = [(f"grade_data[{uid}][{k}]", v) for uid, parts in todo.items() for k, v in parts.items()]
        try:
            job = canvas.request("POST", where, data, what=f"posting {len(todo)} grade(s)").json()
        except CanvasUnsure as exc:
            lost += 1
            progress(f"{exc.message}: reading back what arrived before posting anything again")
            try:
                todo = _not_arrived(canvas, course, assignment, todo, settle_s, poll_s, progress)
            except CanvasError as again:
                raise CanvasError(f"{again.message}; NTU COOL may or may not have the grades just posted: run the "
                                  "same hw10 upload again later (its dry run shows what arrived; it posts only what is "
                                  "missing)") from None
            if todo and lost >= MAX_ROUNDS:
                raise CanvasError(f"posting to assignment {assignment}: NTU COOL's answer was lost {lost} times; "
                                  f"{len(todo)} student(s) did not get what was posted: run the same hw10 upload "
                                  "again later (its dry run shows what arrived; it posts only what is missing)")
            state = "answer lost; read back" if not todo else state
            continue
        job = job if isinstance(job, dict) else {}
        state = wait_for(canvas, job, wait_s, poll_s, progress)
        break
    after = _submissions(canvas, course, assignment, comments)
    receipt = {**identity, "time": now().isoformat(timespec="seconds"),
               "who": {"id": me.get("id"), "name": me.get("name"), "login_id": me.get("login_id")},
               "comments": comments, "progress_id": (job or {}).get("id"), "progress_state": state,
               "answers_lost": lost,
               "posted": [{"id": c.user_id, "name": c.name, "old": c.old, "new": c.new, "excused_before": c.excused,
                           "now_on_canvas": _shown(after.get(c.user_id)),
                           "went_through": _grade_there(after.get(c.user_id), c.new)}
                          for c in posted],
               "excused_not_posted": [c.user_id for c in p.excused],
               "not_in_course": [i for i, _ in p.not_in_course]}
    add_file(folder, RECEIPT, (json.dumps(receipt, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return p, receipt


def _not_arrived(canvas: Canvas, course: int, assignment: int, todo: dict[str, dict[str, str]], settle_s: float,
                 poll_s: float, progress: Callable[[str], None]) -> dict[str, dict[str, str]]:
    """What of ``todo`` Canvas does not show, read back until all of it shows or nothing changed for ``settle_s``
    (Canvas applies a post in a background job, which may still run)."""
    comments = any("text_comment" in parts for parts in todo.values())
    waited, last, unchanged_for = 0.0, None, 0.0
    while True:
        subs = _submissions(canvas, course, assignment, comments)
        left: dict[str, dict[str, str]] = {}
        for uid, parts in todo.items():
            missing = {k: v for k, v in parts.items()
                       if not (_grade_there(subs.get(uid), v) if k == "posted_grade" else
                               _comment_there(subs.get(uid) or {}, v))}
            if missing:
                left[uid] = missing
        if not left:
            return left
        unchanged_for = unchanged_for + poll_s if left == last else 0.0
        if unchanged_for >= settle_s or waited >= settle_s * 4:
            progress(f"{len(todo) - len(left)} of {len(todo)} arrived; posting the other {len(left)} once more")
            return left
        last = left
        canvas.sleep(poll_s)
        waited += poll_s


def wait_for(canvas: Canvas, job: dict, wait_s: float, poll_s: float, progress: Callable[[str], None]) -> str:
    """Poll a Canvas progress object until it ends (completed, failed, canceled) or ``wait_s`` passes; its final
    state."""
    waited = 0.0
    while job.get("workflow_state") not in ("completed", "failed", "canceled"):
        progress(f"NTU COOL is posting the grades: {job.get('workflow_state')} {_pct(job.get('completion'))}")
        if waited > wait_s:
            return f"still {job.get('workflow_state')} after {wait_s:.0f} s"
        canvas.sleep(poll_s)
        waited += poll_s
        if not job.get("url") and not str(job.get("id", "")).isdigit():
            return "no progress to follow"
        got = canvas.get_json(job.get("url") or f"/api/v1/progress/{job['id']}", what="the posting's progress")
        job = got if isinstance(got, dict) else {}
    return str(job.get("workflow_state")) + (f": {canvas.scrub(str(job['message']))[:200]}" if job.get("message")
                                             else "")


def _pct(x) -> str:
    return f"{x:.0f}%" if isinstance(x, (int, float)) else ""


def _grade_there(sub: dict | None, new: str) -> bool:
    return bool(sub) and sub.get("score") is not None and sub.get("excused") is not True and _same(sub["score"], new)


def _shown(sub: dict | None) -> str | None:
    if not sub:
        return None
    if sub.get("excused") is True:
        return "excused"
    return None if sub.get("score") is None else _fmt(sub["score"])


def _norm(text) -> str:
    return str(text or "").replace("\r\n", "\n").strip()


def _comment_there(sub: dict, text: str) -> bool:
    """Whether ``sub`` already carries the comment ``text`` (an empty one never counts)."""
    want = _norm(text)
    return bool(want) and any(isinstance(c, dict) and _norm(c.get("comment")) == want
                              for c in sub.get("submission_comments") or [])


def feedback_texts(folder: Path, rows: list[dict[str, str]]) -> dict[str, str]:
    """Each student's feedback page (the ``feedback`` column of scores.csv, its Markdown twin) as plain text."""
    out = {}
    for r in rows:
        page = r.get("feedback", "")
        md = (folder / page).with_suffix(".md") if page else None
        out[r["id"].strip()] = markdown_to_text(md.read_text(encoding="utf-8")) if md and md.is_file() else ""
    return out


def markdown_to_text(md: str) -> str:
    """hw10's feedback Markdown as plain text for a submission comment: headings and emphasis marks dropped,
    escapes undone, table rows as ``q01: your answer B · correct B · 0.8 / 0.8`` (and ``· why: …`` where the key
    says why).

    >>> markdown_to_text("# Title\\n\\n**Amy** · ID 1\\n\\n| question | your answer | correct | points | why |\\n"
    ...                  "|---|---|---|---|---|\\n| q01 | B | B | 0.8 / 0.8 | shape [1, 32, 25] |\\n")
    'Title\\n\\nAmy · ID 1\\n\\nq01: your answer B · correct B · 0.8 / 0.8 · why: shape [1, 32, 25]'
    """
    lines = []
    for line in md.splitlines():
        s = line.strip()
        if s.startswith("|") and set(s) <= set("|-: "):
            continue
        if s.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", s.strip("|"))]
            if cells[:2] == ["question", "your answer"]:
                continue
            q, chosen, correct, points, why = (cells + ["", "", "", "", ""])[:5]
            s = f"{q}: your answer {chosen or '(blank)'} · correct {correct} · {points}" + (f" · why: {why}"
                                                                                          if why else "")
        s = re.sub(r"^#+\s*", "", s).replace("**", "")
        lines.append(re.sub(r"\\(.)", r"\1", s))
    return "\n".join(lines).strip()


def _fmt(x) -> str:
    try:
        d = Decimal(str(x)).normalize()
    except InvalidOperation:
        return str(x)
    return format(d, "f")


def _same(old, new: str) -> bool:
    try:
        return abs(Decimal(str(old)) - Decimal(str(new))) < Decimal("0.00005")
    except InvalidOperation:
        return False

