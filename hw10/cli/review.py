"""``hw10 review``: a TA closes the claims a computed key left open, by listening, and may correct any verdict.

Two steps: ``hw10 review KEY --evidence-dir DIR --out SHEET [--open Q]`` writes the listening sheet
(``SHEET/index.html``) and the decisions file (``SHEET/decisions.yaml``); ``hw10 review KEY --decisions FILE --out
REVIEWED_KEY`` writes the reviewed key (``status: reviewed``, each TA verdict with its note, who and when, and the
evidence's verdict beside it), as a new file: never over an existing one."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from grader.errors import InputError
from grader.key import dump_key, load_key
from grader.onefile import write_new
from grader.review import apply_decisions, check_openable
from grader.spec import load_yaml_file, read_utf8
from hw10.cli.common import EXIT_OK, bank
from reports.review_sheet import render_review_sheet


def register(subparsers) -> None:
    """Add ``hw10 review``."""
    r = subparsers.add_parser(
        "review", help="a TA decides what a computed key left open, or corrects a verdict (listening sheet, then "
                       "reviewed key)",
        description="Without --decisions: write the listening sheet and decisions.yaml into --out (a folder). "
                    "With --decisions: write the reviewed key to --out (a new file; never over an existing one).")
    r.add_argument("key", help="the key computed by `hw10 key`")
    r.add_argument("--evidence-dir", metavar="DIR", help="the --evidence-dir of that `hw10 key` run (audio, plots)")
    r.add_argument("--assets", metavar="DIR", help="the Colab's files: the original clips play next to the decodes")
    r.add_argument("--open", metavar="Q", action="append", default=[], dest="open_questions",
                   help="also review a computed (or reviewed) question, to correct a verdict the evidence decided "
                        "(repeatable: --open q10 --open q6)")
    r.add_argument("--decisions", metavar="FILE", help="the filled decisions.yaml: write the reviewed key")
    r.add_argument("--out", required=True, help="the sheet's folder, or with --decisions the reviewed key's file")
    r.set_defaults(main=main)


def main(*, key: str, out: str, evidence_dir: str | None = None, assets: str | None = None,
         decisions: str | None = None, open_questions: list[str] | tuple[str, ...] = (),
         questions_dir: str | None = None) -> int:
    """Write the review sheet of ``key``, or with ``decisions`` the reviewed key.

    Args:
        key: the computed key.
        out: the sheet's folder, or (with ``decisions``) the reviewed key to write (a new file).
        evidence_dir: the ``--evidence-dir`` of the ``hw10 key`` run (audio and plots for the sheet).
        assets: the Colab's files (the original clips, to compare with the decodes).
        decisions: the filled decisions file.
        open_questions: computed or reviewed questions to review too (a TA correcting a verdict).
        questions_dir: the question bank folder (None: the installed one).
    """
    questions = bank(questions_dir)
    key_path = Path(key)
    answer_key = load_key(key_path, questions)
    key_text = read_utf8(key_path)
    target = Path(out)
    opened = tuple(check_openable(answer_key, open_questions, "--open"))
    if decisions is None:
        folder = Path(evidence_dir) if evidence_dir else None
        if folder is not None and not folder.is_dir():
            raise InputError("evidence folder not found", file=str(folder))
        originals = Path(assets) if assets else None
        if originals is not None and not originals.is_dir():
            raise InputError("assets folder not found", file=str(originals))
        if target.exists() and not target.is_dir():
            raise InputError("is a file: --out names the sheet's folder (with --decisions, the reviewed key)",
                             file=str(target))
        page, filled = render_review_sheet(questions, answer_key, key_text, target, folder, key_name=key_path.name,
                                           assets=originals, opened=opened, inputs=(key_path,))
        extra = [q for q in opened if q not in answer_key.in_review]
        open_claims = sum(len(answer_key.answer(q).open_claims) for q in answer_key.in_review)
        print(f"{len(answer_key.in_review)} question(s) in review ({', '.join(answer_key.in_review) or 'none'}), "
              f"{open_claims} open claim(s)" + (f"; opened by you: {', '.join(extra)}" if extra else ""))
        print(f"wrote {page} (listen and look) and {filled} (your verdicts and notes)")
        if answer_key.in_review or extra:
            print(f"next: hw10 review {key} --decisions {filled} --out REVIEWED_KEY.yaml")
        return EXIT_OK
    decisions_path = Path(decisions)
    if target.exists() and target.resolve() == key_path.resolve():
        raise InputError("--out is the key itself: write the reviewed key to a new file (the computed key stays as "
                         "the record of the evidence)", file=str(target))
    when = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    reviewed = apply_decisions(questions, answer_key, key_text, load_yaml_file(decisions_path), decisions, when,
                               opened=opened)
    write_new(target, dump_key(reviewed).encode("utf-8"), what="the reviewed key")
    closed = reviewed.provenance["reviews"][-1]["questions"]  # what this review closed: in review, or opened
    print(f"wrote {target}: {', '.join(closed) or 'nothing'} reviewed; `hw10 grade` grades them now")
    overrides = reviewed.override_texts()
    if overrides:
        print("overrides of the evidence: " + "; ".join(overrides))
    return EXIT_OK
