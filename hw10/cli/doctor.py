"""``hw10 doctor``: before the one key run on a borrowed GPU, in seconds and before any weights load: can it go?"""
from __future__ import annotations

from checks.pipeline.doctor import DEFAULT_TIMEOUT_S, examine, report_json
from checks.pipeline.options import KeyRunOptions, add_run_options
from grader.errors import terminal_safe
from hw10.cli.common import EXIT_OK, bank

EXIT_PROBLEMS = 1


def register(subparsers) -> None:
    """Add ``hw10 doctor``."""
    d = subparsers.add_parser(
        "doctor", help="check that a key run can go: software, device, model access, assets, disk (no weights load)",
        description="Everything `hw10 key` with the same options needs, checked in seconds: exit 0 when the run can "
                    "go, 1 with one line per problem and its fix.")
    add_run_options(d)
    d.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help=f"seconds a network check may take (default {DEFAULT_TIMEOUT_S:g})")
    d.add_argument("--json", action="store_true", help="print the findings as JSON")
    d.set_defaults(main=main, options_class=KeyRunOptions)


def main(*, options: KeyRunOptions, timeout: float = DEFAULT_TIMEOUT_S, json: bool = False,
         questions_dir: str | None = None) -> int:
    """Print every finding for a key run with ``options``; 0 when nothing stops it, 1 otherwise.

    Args:
        options: the key run's options (the same flags as ``hw10 key``).
        timeout: seconds a network check may take.
        json: print JSON instead of lines.
        questions_dir: the question bank folder (None: the installed one).
    """
    findings = examine(options, bank(questions_dir), timeout=timeout)
    problems = [f for f in findings if f.problem]
    if json:
        print(report_json(findings))
    else:
        for f in findings:
            print(terminal_safe(f.line()))
        print(f"{len(problems)} problem(s): the key run " + ("can go" if not problems else "cannot go yet"))
    return EXIT_PROBLEMS if problems else EXIT_OK
