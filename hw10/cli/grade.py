"""``hw10 grade EXPORT --key KEY --out DIR``: grade the class and write scores, grades, item analysis, feedback."""
from __future__ import annotations

from pathlib import Path

from grader.errors import terminal_safe
from grader.lms import lms_named
from grader.scoring import fmt_points
from hw10.cli.common import EXIT_OK, bank
from hw10.grade import GradeOptions, run_grade


def register(subparsers) -> None:
    """Add ``hw10 grade``."""
    g = subparsers.add_parser("grade", help="grade an NTU COOL export (or a plain CSV / one student's YAML)")
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
    g.set_defaults(main=main)


def main(*, export: str, key: str, out: str, previous_key: str | None = None, format: str = "auto",
         attempt: str = "latest", assignment: str = "HW10 Speech Generation", no_points_possible: bool = False,
         decimals: int = 4, match: str | None = None, allow_pending: bool = False, allow_fixture_key: bool = False,
         questions_dir: str | None = None) -> int:
    """Grade ``export`` against ``key`` into the folder ``out`` and print a summary.

    Args:
        export: NTU COOL Student Analysis CSV, plain CSV or one student's YAML/JSON.
        key: the answer key (hw10-key/1).
        out: the output folder.
        previous_key: the key used before (adds regrade.csv).
        format: ``auto``, ``ntucool``, ``plain-csv`` or ``single``.
        attempt: which attempt counts: ``latest``, ``first`` or ``highest``.
        assignment: the gradebook column title, ``"Title (assignment id)"``.
        no_points_possible: omit grades.csv's Points Possible row.
        decimals: decimals written for points.
        match: YAML pinning question columns and choice texts.
        allow_pending: write grades.csv although the key has pending questions.
        allow_fixture_key: write grades.csv although the key comes from test fixtures.
        questions_dir: the question bank folder (None: the installed one).
    """
    column = lms_named().gradebook.column(assignment)  # a spelling NTU COOL reads as a new column: exit 2, at once
    opts = GradeOptions(export=Path(export), key=Path(key), out=Path(out),
                        previous_key=Path(previous_key) if previous_key else None, fmt=format,
                        attempt=attempt, assignment=assignment, points_possible=not no_points_possible,
                        decimals=decimals, match=Path(match) if match else None,
                        allow_pending=allow_pending, allow_fixture_key=allow_fixture_key)
    res = run_grade(opts, bank(questions_dir))

    def say(text: str) -> None:
        print(terminal_safe(text))  # ids, names and file names come from the input
    sheet, stats, roster = res.sheet, res.stats, res.roster
    rows = res.rows
    say(f"Graded {stats.n} students from {rows} rows of {export} ({roster.format}, {roster.encoding})")
    say(f"  mean {stats.mean:.2f} · median {stats.median:.2f} · std {stats.stdev:.2f} · out of "
          f"{fmt_points(sheet.max_total)} · KR-20 {'—' if stats.kr20 is None else f'{stats.kr20:.3f}'}")
    waiting = sheet.key.in_review
    not_decided = [q for q in sheet.pending if q not in waiting]
    if not_decided:
        say(f"  NOT GRADED (pending in the key): {', '.join(not_decided)}")
    if waiting:
        say(f"  NOT GRADED (waiting for a TA's review; run `hw10 review`): {', '.join(waiting)}")
    if sheet.key.reviewed:
        say(f"  reviewed by a TA: {', '.join(sheet.key.reviewed)}")
    overrides = [f"{q} {r.option} ({r.evidence_verdict} → {r.verdict})" for q, rs in sheet.key.overrides.items()
                 for r in rs]
    if overrides:
        say(f"  TA overrides of the evidence (see report.html): {', '.join(overrides)}")
    flagged = [it for it in stats.items if it.flags]
    say(f"  items flagged: {len(flagged)}" + (": " + ", ".join(it.qid for it in flagged) if flagged else ""))
    for it in flagged:
        for f in it.flags:
            say(f"    {it.qid}: {f}")
    to_check = [r for r in sheet.results if r.status != "ok"]
    say(f"  students to check: {len(to_check)}" + (" (status 'check' in scores.csv)" if to_check else ""))
    fuzzy = [m for m in roster.matches if m.how != "pinned"]
    if fuzzy:
        say(f"  fuzzy text matches: {len(fuzzy)} (listed in report.html)")
    for w in roster.warnings:
        say(f"  warning: {w}")
    prov = sheet.key.provenance
    desc = prov.get("description") or prov.get("kind") or "no description"
    statuses = sorted({a.status for a in sheet.key.answers.values()})
    say(f"  key: {key} ({'/'.join(statuses)}; {desc})")
    if res.regrade is not None:
        up = sum(1 for d in res.regrade if d.delta > 0)
        down = sum(1 for d in res.regrade if d.delta < 0)
        say(f"  regrade vs {previous_key}: {up} up, {down} down, {len(res.regrade) - up - down} unchanged")
    for s in res.skipped:
        say(f"  NOT WRITTEN {s}")
    say(f"  wrote {', '.join(p.name for p in res.written)} in {out}")
    if any(p.name == "grades.csv" for p in res.written) and column.id is None:
        say(f"  note: grades.csv's column {assignment!r} has no assignment id, so NTU COOL will add a new "
              "assignment on import; to fill an existing one use --assignment \"Title (id)\" as its gradebook "
              "export names it")
    return EXIT_OK
