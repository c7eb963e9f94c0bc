"""``hw10 verify --key OFFICIAL``: check a hand-written key against computed evidence (exit 1 on disagreement)."""
from __future__ import annotations

from checks.pipeline.options import KeyRunOptions, add_run_options
from grader.key import load_key
from grader.verify import compare_keys
from hw10.cli.common import EXIT_DISAGREE, EXIT_OK, bank, one_line
from hw10.cli.compute import compute


def register(subparsers) -> None:
    """Add ``hw10 verify``."""
    v = subparsers.add_parser(
        "verify", help="check an official key against computed evidence (exit 1 on disagreement)",
        description="List every question where the official key and the evidence disagree, with the numbers.")
    v.add_argument("--key", required=True, metavar="OFFICIAL", help="the key to verify (e.g. typed in by a TA)")
    v.add_argument("--against", metavar="COMPUTED",
                   help="a key computed earlier by `hw10 key` (default: compute the evidence now)")
    v.add_argument("--strict", action="store_true", help="also exit 1 when a question cannot be verified")
    add_run_options(v)
    v.set_defaults(main=main, options_class=KeyRunOptions)


def main(*, key: str, options: KeyRunOptions, against: str | None = None, strict: bool = False,
         questions_dir: str | None = None) -> int:
    """Compare the official ``key`` with a computed one, question by question; 1 on any disagreement.

    Args:
        key: the official (hand-written) key.
        options: what to compute when there is no ``against`` key.
        against: a key computed earlier by ``hw10 key``.
        strict: also fail when a question cannot be verified.
        questions_dir: the question bank folder (None: the installed one).
    """
    questions = bank(questions_dir)
    official = load_key(key, questions)
    if against:
        computed = load_key(against, questions)
    else:
        options.command = "hw10 verify"
        computed = compute(options, questions, "verify").key
    rows = compare_keys(questions, official, computed)
    for r in rows:
        mark = {"agree": "agrees", "disagree": "DISAGREES", "unverified": "not verified"}[r.outcome]
        fragile = " · FRAGILE evidence" if r.fragile else ""
        print(f"  {r.qid}  official {','.join(r.official) or '—':8} computed {','.join(r.computed) or '—':8} "
              f"{mark}{fragile}: {one_line(r.detail, 300)}")
    overrides = [f"{r.qid} {line}" for r in rows for line in r.overrides]
    if overrides:
        print(f"TA overrides of the evidence in {key} ({len(overrides)}; decided knowing the evidence, not counted as "
              "disagreements):")
        for line in overrides:
            print(f"  {one_line(line, 300)}")
    bad = [r.qid for r in rows if r.outcome == "disagree"]
    unverified = [r.qid for r in rows if r.outcome == "unverified"]
    fragile = [r.qid for r in rows if r.fragile and r.outcome != "unverified"]
    print(f"{len(rows) - len(bad) - len(unverified)} agree, {len(bad)} disagree"
          + (f" ({', '.join(bad)})" if bad else "") + f", {len(unverified)} not verified"
          + (f", fragile evidence: {', '.join(fragile)}" if fragile else ""))
    if computed.from_fixtures:
        print(f"note: the evidence for {', '.join(computed.from_fixtures)} comes from hw10 test fixtures (level: "
              "fixture): agreement there says nothing about the real models")
    if bad or (strict and unverified):
        return EXIT_DISAGREE
    return EXIT_OK
