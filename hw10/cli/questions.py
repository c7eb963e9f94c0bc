"""``hw10 questions [QID]``: list the question bank, or show one question."""
from __future__ import annotations

from grader.errors import InputError
from grader.readers.plain import question_id
from grader.scoring import fmt_points
from hw10.cli.common import EXIT_OK, bank


def register(subparsers) -> None:
    """Add ``hw10 questions``."""
    q = subparsers.add_parser("questions", help="list the question bank, or show one question")
    q.add_argument("qid", nargs="?", help="a question id: q06, q6, 6 (default: list the bank)")
    q.add_argument("--lang", choices=("zh", "en", "both"), default="both")
    q.set_defaults(main=main)


def main(*, qid: str | None, lang: str = "both", questions_dir: str | None = None) -> int:
    """List the bank, or show one question.

    Args:
        qid: ``q01``, ``q1``, ``Q01`` or ``1`` (as answer files take them); None lists every question.
        lang: ``zh``, ``en`` or ``both``: which texts to show.
        questions_dir: the question bank folder (None: the installed one).
    """
    questions = bank(questions_dir)
    if not qid:
        print(f"{len(questions)} questions, {fmt_points(questions.total_points)} points, "
              f"bank sha256 {questions.sha256()[:16]}…")
        for s in questions:
            print(f"  {s.id}  {s.kind:6}  {fmt_points(s.points_exact):>3} pt  {s.check.level:10}  {s.title}")
        return EXIT_OK
    wanted = question_id(qid)  # q6, Q06, 6, ６: as answer files take them
    if wanted not in questions:
        raise InputError(f"no question {qid!r}; choose from {', '.join(questions.ids)}")
    s = questions[wanted]
    print(f"{s.id} · {s.title} · {s.kind} · {fmt_points(s.points_exact)} pt · check {s.check.module} ({s.check.level})")
    if lang in ("zh", "both"):
        print(s.stem)
    if lang in ("en", "both"):
        print(s.stem_en)
    for o in s.options:
        print(f"  {o.id}. " + (o.text if lang != "en" else o.text_en))
        if lang == "both" and o.text_en != o.text:
            print(f"     {o.text_en}")
        if o.claim is not None:
            print(f"     claim ({o.claim.decided_by}): {o.claim.rule}")
            if o.claim.source:
                print(f"     source: {o.claim.source}")
    if s.thresholds:
        print("  thresholds: " + ", ".join(f"{k}={v}" for k, v in s.thresholds.items()))
    if s.check.assets:
        print("  assets: " + ", ".join(s.check.assets))
    return EXIT_OK
