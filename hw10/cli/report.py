"""``hw10 report --key KEY --out DIR``: render a key's evidence report (HTML with plots and audio)."""
from __future__ import annotations

from pathlib import Path

from grader.errors import InputError
from grader.key import load_key
from hw10.cli.common import EXIT_OK, bank
from reports.evidence_report import render_evidence_report


def register(subparsers) -> None:
    """Add ``hw10 report``."""
    r = subparsers.add_parser("report", help="render the evidence report (HTML) of an answer key")
    r.add_argument("--key", required=True, help="answer key YAML")
    r.add_argument("--evidence-dir", help="the --evidence-dir of `hw10 key` (plots and audio to embed)")
    r.add_argument("--out", required=True, help="report folder (index.html + media/): new, empty, or one hw10 "
                                                "wrote and nobody changed since (anything else is refused)")
    r.set_defaults(main=main)


def main(*, key: str, out: str, evidence_dir: str | None = None, questions_dir: str | None = None) -> int:
    """Render the report of ``key`` into the folder ``out``.

    Args:
        key: the answer key.
        out: the report folder (index.html + media/).
        evidence_dir: the ``--evidence-dir`` of ``hw10 key`` whose plots and audio the page embeds.
        questions_dir: the question bank folder (None: the installed one).
    """
    questions = bank(questions_dir)
    answer_key = load_key(key, questions)
    evidence = Path(evidence_dir) if evidence_dir else None
    if evidence is not None and not evidence.is_dir():
        raise InputError("evidence folder not found", file=str(evidence))
    page = render_evidence_report(questions, answer_key, Path(out), evidence, key_name=Path(key).name,
                                  inputs=(Path(key),))
    print(f"wrote {page}")
    return EXIT_OK
