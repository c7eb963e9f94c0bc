"""The ``hw10`` command line. Library code never prints; this module does."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import InputError
from .scoring import fmt_points

EXIT_OK, EXIT_DISAGREE, EXIT_INPUT = 0, 1, 2

# Modules adding further sub-commands: each has ``register(subparsers)`` and must import without torch.
COMMAND_MODULES: tuple[str, ...] = ("checks.cli",)


def _bank(args: argparse.Namespace):
    from .spec import load_bank

    return load_bank(args.questions_dir)


def cmd_questions(args: argparse.Namespace) -> int:
    bank = _bank(args)
    if not args.qid:
        print(f"{len(bank)} questions, {fmt_points(bank.total_points)} points, bank sha256 {bank.sha256()[:16]}…")
        for s in bank:
            print(f"  {s.id}  {s.kind:6}  {fmt_points(s.points_exact):>3} pt  {s.check.level:10}  {s.title}")
        return EXIT_OK
    qid = args.qid.lower()
    if qid.isdigit():
        qid = f"q{int(qid):02d}"
    if qid not in bank:
        raise InputError(f"no question {args.qid!r}; choose from {', '.join(bank.ids)}")
    s = bank[qid]
    print(f"{s.id} · {s.title} · {s.kind} · {fmt_points(s.points_exact)} pt · check {s.check.module} ({s.check.level})")
    if args.lang in ("zh", "both"):
        print(s.stem)
    if args.lang in ("en", "both"):
        print(s.stem_en)
    for o in s.options:
        print(f"  {o.id}. " + (o.text if args.lang != "en" else o.text_en))
        if args.lang == "both" and o.text_en != o.text:
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


def cmd_grade(args: argparse.Namespace) -> int:
    from .grade import GradeOptions, run_grade
    from .writers import Assignment

    bank = _bank(args)
    opts = GradeOptions(export=Path(args.export), key=Path(args.key), out=Path(args.out),
                        previous_key=Path(args.previous_key) if args.previous_key else None, fmt=args.format,
                        attempt=args.attempt, assignment=args.assignment, points_possible=not args.no_points_possible,
                        decimals=args.decimals, match=Path(args.match) if args.match else None,
                        allow_pending=args.allow_pending, allow_fixture_key=args.allow_fixture_key)
    res = run_grade(opts, bank)
    sheet, stats, roster = res.sheet, res.stats, res.roster
    rows = len(roster.submissions)
    print(f"Graded {stats.n} students from {rows} rows of {args.export} ({roster.format}, {roster.encoding})")
    print(f"  mean {stats.mean:.2f} · median {stats.median:.2f} · std {stats.stdev:.2f} · out of "
          f"{fmt_points(sheet.max_total)} · KR-20 {'—' if stats.kr20 is None else f'{stats.kr20:.3f}'}")
    if sheet.pending:
        print(f"  NOT GRADED (pending in the key): {', '.join(sheet.pending)}")
    flagged = [it for it in stats.items if it.flags]
    print(f"  items flagged: {len(flagged)}" + (": " + ", ".join(it.qid for it in flagged) if flagged else ""))
    for it in flagged:
        for f in it.flags:
            print(f"    {it.qid}: {f}")
    checks = [r for r in sheet.results if r.status != "ok"]
    print(f"  students to check: {len(checks)}" + (" (status 'check' in scores.csv)" if checks else ""))
    fuzzy = [m for m in roster.matches if m.how != "pinned"]
    if fuzzy:
        print(f"  fuzzy text matches: {len(fuzzy)} (listed in report.html)")
    for w in roster.warnings:
        print(f"  warning: {w}")
    prov = sheet.key.provenance
    desc = prov.get("description") or prov.get("kind") or "no description"
    statuses = sorted({a.status for a in sheet.key.answers.values()})
    print(f"  key: {args.key} ({'/'.join(statuses)}; {desc})")
    if res.regrade is not None:
        up = sum(1 for d in res.regrade if d.delta > 0)
        down = sum(1 for d in res.regrade if d.delta < 0)
        print(f"  regrade vs {args.previous_key}: {up} up, {down} down, {len(res.regrade) - up - down} unchanged")
    for s in res.skipped:
        print(f"  NOT WRITTEN {s}")
    print(f"  wrote {', '.join(p.name for p in res.written)} in {args.out}")
    if any(p.name == "grades.csv" for p in res.written) and not Assignment(args.assignment).has_id:
        print(f"  note: grades.csv's column {args.assignment!r} has no assignment id, so NTU COOL will add a new "
              "assignment on import; to fill an existing one use --assignment \"Title (id)\" as its gradebook "
              "export names it")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from reports.evidence_report import render_evidence_report

    from .key import load_key

    bank = _bank(args)
    key = load_key(args.key, bank)
    evidence = Path(args.evidence_dir) if args.evidence_dir else None
    if evidence is not None and not evidence.is_dir():
        raise InputError("evidence folder not found", file=str(evidence))
    page = render_evidence_report(bank, key, Path(args.out), evidence, key_name=Path(args.key).name)
    print(f"wrote {page}")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import STAGES, bench_grade, bench_model_stage, format_table, unknown_stages

    unknown = unknown_stages(args.stages)
    if unknown:
        raise InputError(f"--stages: no stage {', '.join(map(repr, unknown))}; choose from {', '.join(STAGES)}")
    rows, failed = [], []
    for stage in args.stages:
        print(f"bench: {stage} …", file=sys.stderr, flush=True)
        if stage == "grade":
            rows.append(bench_grade(args.students))
        else:
            try:
                rows.append(bench_model_stage(stage, args.device))
            except RuntimeError as exc:
                failed.append(stage)
                print(f"bench: {stage} failed: {exc}", file=sys.stderr)
    print(format_table(rows))
    if failed:
        print(f"bench: {len(failed)} stage(s) failed: {', '.join(failed)} (see above)", file=sys.stderr)
        return 1
    return EXIT_OK


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hw10", description="HW10 (Speech Generation) autograder and answer verifier")
    p.add_argument("--version", action="version", version=f"hw10 {__version__}")
    p.add_argument("--questions-dir", default=None, help="question bank folder (default: the installed q01…q12)")
    p.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = p.add_subparsers(dest="command", required=True)

    q = sub.add_parser("questions", help="list the question bank, or show one question")
    q.add_argument("qid", nargs="?", help="q01 … q12 (or 1 … 12)")
    q.add_argument("--lang", choices=("zh", "en", "both"), default="both")
    q.set_defaults(func=cmd_questions)

    g = sub.add_parser("grade", help="grade an NTU COOL export (or a plain CSV / one student's YAML)")
    g.add_argument("export", help="NTU COOL quiz Student Analysis CSV, plain CSV (id,name,q01…q12) or YAML/JSON")
    g.add_argument("--key", required=True, help="answer key YAML (format hw10-key/1)")
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--previous-key", help="the key used before: adds regrade.csv and a regrade section")
    g.add_argument("--format", default="auto", choices=("auto", "ntucool", "plain-csv", "single"))
    g.add_argument("--attempt", default="latest", choices=("latest", "first", "highest"),
                   help="which attempt counts when a student has several (default: latest)")
    g.add_argument("--assignment", default="HW10 Speech Generation",
                   help='gradebook column title; use "Title (assignment id)" to update an existing assignment')
    g.add_argument("--no-points-possible", action="store_true", help="omit the Points Possible row in grades.csv")
    g.add_argument("--decimals", type=int, default=4, help="decimals written for points (default 4)")
    g.add_argument("--match", help="YAML pinning question columns / choice texts when the export is ambiguous")
    g.add_argument("--allow-pending", action="store_true",
                   help="write grades.csv even when the key has pending (not graded) questions")
    g.add_argument("--allow-fixture-key", action="store_true",
                   help="write grades.csv even from a key computed from hw10 test fixtures (demos only)")
    g.set_defaults(func=cmd_grade)

    r = sub.add_parser("report", help="render the evidence report (HTML) of an answer key")
    r.add_argument("--key", required=True, help="answer key YAML")
    r.add_argument("--evidence-dir", help="the --evidence-dir of `hw10 key` (plots and audio to embed)")
    r.add_argument("--out", required=True, help="report folder (index.html + media/)")
    r.set_defaults(func=cmd_report)

    b = sub.add_parser("bench", help="measure speed and memory (prints a table; never a test)")
    b.add_argument("--stages", default="grade,mimi", type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
                   help="comma-separated stages: grade, mimi, q06_encode, umap, pesq, q09, q10, csm, key "
                        "(default: grade,mimi; key = a whole key run, cold cache against warm); "
                        "exit 1 when a stage fails")
    b.add_argument("--device", default="cpu", help="device for the model stages (cpu or cuda)")
    b.add_argument("--students", type=positive_int, default=10_000, help="class size for the grade stage")
    b.set_defaults(func=cmd_bench)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        rc = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here, not as a traceback at exit
        return rc
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`hw10 questions | head`): stop quietly, with the shell's status for it (128 + SIGPIPE);
        # output after the break may not have been written
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
