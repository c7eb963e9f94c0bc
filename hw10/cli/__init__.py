"""The ``hw10`` command line: one module per verb, each with ``register(subparsers)`` and a keyword-only
``main(*, …)`` that does the work. Library code never prints; these modules do.

Verbs (:data:`VERBS`): ``questions``, ``fetch``, ``grade``, ``upload``, ``report``, ``review``, ``bench``, and
``doctor``, ``key``, ``check``, ``verify``, which run the model pipeline (:mod:`checks.pipeline`; importing it loads no
torch: that happens when a model loads).
"""
from __future__ import annotations

import argparse
import gc
import importlib
import inspect
import logging
import os
import sys

from grader.errors import InputError, terminal_safe
from grader.extras import missing_extra
from grader.options import flags, from_args
from grader.version import __version__
from hw10.cli.common import EXIT_INPUT

__all__ = ["VERBS", "build_parser", "cli_phrased", "main", "run"]

VERBS = ("questions", "fetch", "grade", "upload", "report", "review", "bench", "doctor", "key", "check", "verify")
"""The verbs (modules ``hw10.cli.<verb>``), in the order ``hw10 --help`` lists them."""


def _named_verb(argv: list[str]) -> str | None:
    """The verb ``argv`` names when it is its first argument (the usual ``hw10 grade …``), else None."""
    return argv[0] if argv and argv[0] in VERBS else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every verb (``only``: just that one: a command imports only its own verb's module, so
    ``hw10 grade`` never loads what ``hw10 key`` needs); each sub-parser's ``main`` default is its verb's ``main``."""
    p = argparse.ArgumentParser(prog="hw10", description="HW10 (Speech Generation) autograder and answer verifier")
    p.add_argument("--version", action="version", version=f"hw10 {__version__}")
    p.add_argument("--questions-dir", default=None, help="question bank folder (default: the installed one)")
    p.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = p.add_subparsers(dest="verb", required=True)
    for verb in ([only] if only else VERBS):
        importlib.import_module(f"hw10.cli.{verb}").register(sub)
    return p


def _call(verb_main, args: argparse.Namespace) -> int:
    """Call a verb's keyword-only ``main`` with the parsed arguments it declares; ``options`` is the verb's options
    dataclass (its sub-parser's ``options_class`` default: :class:`checks.pipeline.options.KeyRunOptions` for key,
    check and verify, :class:`hw10.grade.GradeOptions` for grade) built from them (:func:`grader.options.from_args`)."""
    params = inspect.signature(verb_main).parameters
    kwargs = {name: getattr(args, name) for name in params if hasattr(args, name) and name != "options"}
    if "options" in params:
        kwargs["options"] = from_args(args.options_class, args)
    return verb_main(**kwargs)


def cli_phrased(exc: InputError, options_class: type | None) -> str:
    """``exc`` as the command line says it: the option it is about written as the verb's flag (the field ``select``
    of the key options is ``--questions``)."""
    names = {field: flag.name for field, flag in flags(options_class)} if options_class else {}
    return exc.phrased(names.get(exc.option or ""))


def main(argv: list[str] | None = None) -> int:
    """Run ``hw10`` with ``argv`` (default: the process's arguments); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_named_verb(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        rc = _call(args.main, args)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here, not as a traceback at exit
        return rc
    except InputError as exc:
        print(f"error: {terminal_safe(cli_phrased(exc, getattr(args, 'options_class', None)))}", file=sys.stderr)
        return EXIT_INPUT
    except ModuleNotFoundError as exc:  # a grader-only install asked to compute evidence: say which extra, no traceback
        advice = missing_extra(exc)
        if advice is None:
            raise
        print(f"error: hw10 {args.verb}: {advice}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`hw10 questions | head`): stop quietly, with the shell's status for it (128 + SIGPIPE);
        # output after the break may not have been written
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def run() -> None:
    """The ``hw10`` command (and ``python -m hw10.cli``): :func:`main`, then the process ends with its status. The
    objects still alive are frozen first: the interpreter's last garbage collections at exit would otherwise walk
    every one of them (the imports alone: ~60 ms) to find what dies with the process anyway. Exit handlers
    (``atexit``, ``weakref.finalize``) still run; objects left in reference cycles are not finalised (``__del__``),
    and hw10 leaves nothing there that needs it: every file and process is closed by a with-block before this.
    :func:`main` itself, which tests call in their own process, leaves the collector alone."""
    rc = main()
    gc.freeze()
    sys.exit(rc)
