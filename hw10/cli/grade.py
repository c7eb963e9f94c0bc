"""``hw10 grade EXPORT --key KEY --out DIR``: grade the class and write scores, grades, item analysis, feedback."""
from __future__ import annotations

from grader.errors import terminal_safe
from grader.lms import lms_named
from grader.options import add_options
from grader.scoring import fmt_points
from hw10.cli.common import EXIT_OK, EXIT_WITHHELD, bank
from hw10.grade import GradeOptions, run_grade


def register(subparsers) -> None:
    """Add ``hw10 grade`` (its flags: :class:`hw10.grade.GradeOptions`)."""
    g = subparsers.add_parser("grade", help="grade an NTU COOL export (or a plain CSV / one student's YAML)")
    add_options(g, GradeOptions)
    g.set_defaults(main=main, options_class=GradeOptions)


def main(*, options: GradeOptions, questions_dir: str | None = None) -> int:
    """Grade ``options.export`` against ``options.key`` into the folder ``options.out`` and print a summary.

    Args:
        options: what to grade, how and where (:class:`hw10.grade.GradeOptions`, one field per flag).
        questions_dir: the question bank folder (None: the installed one).
    """
    opts = options
    export, key, out, previous_key = opts.export, opts.key, opts.out, opts.previous_key
    # a spelling NTU COOL reads as a new column: exit 2, at once
    column = lms_named(opts.lms).gradebook.column(opts.assignment)
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
    overrides = sheet.key.override_texts()
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
    if res.unread:
        cells = sum(sum(t.values()) for t in res.unread.values())
        say(f"  answers matching no choice: {cells} cell(s) in {', '.join(sorted(res.unread))} (scored as not read): "
            f"copy {out}/match-suggestions.yaml out of the folder, write the letter each text means, then grade "
            "again with --match COPY.yaml")
    say(f"  wrote {', '.join(p.name for p in res.written)} in {out}")
    if any(p.name == "grades.csv" for p in res.written) and column.id is None:
        say(f"  note: grades.csv's column {opts.assignment!r} has no assignment id, so NTU COOL will add a new "
              "assignment on import; to fill an existing one use --assignment \"Title (id)\" as its gradebook "
              "export names it")
    if res.skipped:  # the last lines, and a status of its own: a script importing grades.csv next must notice
        for s in res.skipped:
            say(f"  NOT WRITTEN {s}")
        say(f"grades.csv NOT WRITTEN (exit status {EXIT_WITHHELD}): the other files are complete")
        return EXIT_WITHHELD
    return EXIT_OK
