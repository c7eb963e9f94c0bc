"""``hw10 review``: a TA closes the claims a computed key left open, by listening.

Two steps: ``hw10 review KEY --evidence-dir DIR --out SHEET`` writes the listening sheet (``SHEET/index.html``)
and the decisions file (``SHEET/decisions.yaml``); ``hw10 review KEY --decisions FILE --out REVIEWED_KEY`` writes
the reviewed key (``status: reviewed``, each TA verdict with its note, who and when)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from grader.cli.common import EXIT_OK, bank
from grader.errors import InputError
from grader.key import dump_key, load_key
from grader.review import apply_decisions
from grader.spec import load_yaml_file, read_utf8
from reports.review_sheet import render_review_sheet


def register(subparsers) -> None:
    """Add ``hw10 review``."""
    r = subparsers.add_parser(
        "review", help="a TA decides the claims a computed key left open (listening sheet, then reviewed key)",
        description="Without --decisions: write the listening sheet and decisions.yaml into --out (a folder). "
                    "With --decisions: write the reviewed key to --out (a file).")
    r.add_argument("key", help="the key computed by `hw10 key` (with questions in review)")
    r.add_argument("--evidence-dir", metavar="DIR", help="the --evidence-dir of that `hw10 key` run (audio, plots)")
    r.add_argument("--assets", metavar="DIR", help="the Colab's files: the original clips play next to the decodes")
    r.add_argument("--decisions", metavar="FILE", help="the filled decisions.yaml: write the reviewed key")
    r.add_argument("--out", required=True, help="the sheet's folder, or with --decisions the reviewed key's file")
    r.set_defaults(main=main)


def main(*, key: str, out: str, evidence_dir: str | None = None, assets: str | None = None,
         decisions: str | None = None, questions_dir: str | None = None) -> int:
    """Write the review sheet of ``key``, or with ``decisions`` the reviewed key.

    Args:
        key: the computed key.
        out: the sheet's folder, or (with ``decisions``) the reviewed key to write.
        evidence_dir: the ``--evidence-dir`` of the ``hw10 key`` run (audio and plots for the sheet).
        assets: the Colab's files (the original clips, to compare with the decodes).
        decisions: the filled decisions file.
        questions_dir: the question bank folder (None: the installed one).
    """
    questions = bank(questions_dir)
    key_path = Path(key)
    answer_key = load_key(key_path, questions)
    key_text = read_utf8(key_path)
    target = Path(out)
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
                                           assets=originals)
        open_claims = sum(len(answer_key.answer(q).open_claims) for q in answer_key.in_review)
        print(f"{len(answer_key.in_review)} question(s) in review ({', '.join(answer_key.in_review) or 'none'}), "
              f"{open_claims} open claim(s)")
        print(f"wrote {page} (listen and look) and {filled} (your verdicts and notes)")
        if answer_key.in_review:
            print(f"next: hw10 review {key} --decisions {filled} --out REVIEWED_KEY.yaml")
        return EXIT_OK
    if target.resolve() == key_path.resolve():
        raise InputError("--out is the key itself: write the reviewed key to another file (the computed key "
                         "stays as the record of the evidence)", file=str(target))
    if target.is_dir():
        raise InputError("is a folder: with --decisions, --out names the reviewed key's file", file=str(target))
    when = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    reviewed = apply_decisions(questions, answer_key, key_text, load_yaml_file(Path(decisions)), decisions, when)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(dump_key(reviewed), encoding="utf-8")
    tmp.replace(target)  # all or nothing: a refused decisions file leaves no half key
    print(f"wrote {target}: {', '.join(answer_key.in_review)} reviewed; `hw10 grade` grades them now")
    return EXIT_OK
