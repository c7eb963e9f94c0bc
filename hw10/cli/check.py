"""``hw10 check --answers FILE``: a student's self-check, scored by the function ``hw10 grade`` uses."""
from __future__ import annotations

from pathlib import Path

from checks.pipeline.options import KeyRunOptions, add_run_options
from grader.key import load_key
from grader.readers.answers import read_answers
from hw10.cli.common import EXIT_OK, bank
from hw10.cli.compute import compute
from hw10.notebook import answers_from, score_against_key


def register(subparsers) -> None:
    """Add ``hw10 check``."""
    c = subparsers.add_parser(
        "check", help="student self-check: score your answers against the evidence (or a key)",
        description="Score your answers with the same function `hw10 grade` uses. Without --key the checks "
                    "you select run here first (needs the model extras and the Colab's files).")
    c.add_argument("--answers", required=True, metavar="FILE",
                   help="your answers: YAML/JSON (q01: B, q06: [A, C]) or a text file of lines like 'q01 B'")
    c.add_argument("--key", metavar="KEY", help="score against this key instead of computing the evidence here")
    add_run_options(c)
    c.set_defaults(main=main, options_class=KeyRunOptions)


def main(*, answers: str, options: KeyRunOptions, key: str | None = None, questions_dir: str | None = None) -> int:
    """Score the answers in the file ``answers`` against ``key``, or against evidence computed here.

    Args:
        answers: the student's answers file (YAML/JSON or lines like ``q01 B``).
        options: what to compute when there is no ``key`` (by default only the questions answered).
        key: score against this key instead of computing the evidence.
        questions_dir: the question bank folder (None: the installed one).
    """
    questions = bank(questions_dir)
    sub = answers_from(read_answers(Path(answers), questions), questions)
    if key:
        answer_key, desc = load_key(key, questions), key
    else:
        if options.select is None:  # only what the student answered (the others: "not among its questions")
            options.select = ",".join(sorted(sub.answers)) or None
        options.command = "hw10 check"
        answer_key, desc = compute(options, questions, "check").key, "computed here"
    print(score_against_key(questions, answer_key, sub, key_description=desc))
    return EXIT_OK
