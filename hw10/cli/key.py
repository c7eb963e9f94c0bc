"""``hw10 key``: compute the answer key from the models and assets, with evidence (and its HTML report)."""
from __future__ import annotations

from pathlib import Path

from checks.evidence import margin_text
from checks.pipeline.options import KeyRunOptions, add_run_options, command_line
from grader.errors import InputError
from grader.key import dump_key, parse_key
from grader.onefile import replace_checked, same_file
from grader.spec import load_yaml_file
from hw10.cli.common import EXIT_OK, bank, one_line
from hw10.cli.compute import compute, report_evidence_dir
from reports.evidence_report import render_evidence_report

DEFAULT_OUT = "key.yaml"


def register(subparsers) -> None:
    """Add ``hw10 key``."""
    k = subparsers.add_parser(
        "key", help="compute the answer key from the models and assets, with evidence",
        description="Run the checks of the selected questions and write an answer key (format hw10-key/1). "
                    "A question whose assets or models are missing is written as pending with the reason.")
    add_run_options(k)
    k.add_argument("--out", metavar="KEY", default=DEFAULT_OUT, help=f"answer key to write (default {DEFAULT_OUT})")
    k.add_argument("--report", metavar="DIR",
                   help="also write the evidence report (HTML with plots and audio) here; without --evidence-dir the "
                        "evidence goes beside it, to DIR-evidence")
    k.add_argument("--force", action="store_true",
                   help="overwrite --out even when it holds a TA's work (an answer asserted or reviewed) or is not "
                        "an hw10 key (a key computed earlier is overwritten without it)")
    k.set_defaults(main=main, options_class=KeyRunOptions)


def main(*, options: KeyRunOptions, out: str = DEFAULT_OUT, report: str | None = None, force: bool = False,
         questions_dir: str | None = None) -> int:
    """Compute the key of ``options``, print each answer with its evidence and margin, write it to ``out``.

    Args:
        options: the run's questions, assets, models and settings (``out`` among them, for the provenance).
        out: the key file to write.
        report: also render the evidence report into this folder.
        force: overwrite ``out`` even when it holds a hand-written key or no hw10 key.
        questions_dir: the question bank folder (None: the installed one).
    """
    checked = _check_out(Path(out), force)  # before any model loads
    if report:
        _check_report(Path(report), Path(out), options.evidence_dir or report_evidence_dir(report))
    questions = bank(questions_dir)
    options.command = options.command or command_line(options)
    run = compute(options, questions, "key", report)
    key, outcomes = run.key, run.outcomes
    mimi_info = key.provenance.get("models", {}).get("mimi", {})
    if mimi_info.get("description"):
        print(f"  Mimi: {mimi_info['description']} on {mimi_info.get('device')} ({mimi_info.get('dtype')})")
    for o in outcomes:
        if o.blocked_by == "selection":
            continue
        if o.status == "computed":
            ev = o.evidence
            print(f"  {o.qid}  {','.join(o.correct):8} computed ({o.level})  margin: {margin_text(o.margin)}")
            print(f"        evidence: {one_line(ev.summary if ev else '')}")
        elif o.status == "review":
            print(f"  {o.qid}  {'?':8} review: {one_line(o.reason or '', 400)}")
        else:
            why = "model unavailable (see the error message)" if o.blocked_by == "model" else o.reason
            print(f"  {o.qid}  {'—':8} pending: {one_line(why or '', 400)}")
            if o.evidence is not None:
                print(f"        evidence: {one_line(o.evidence.summary)}")
    skipped = [o.qid for o in outcomes if o.blocked_by == "selection"]
    if skipped:
        print(f"  not selected (pending in the key): {', '.join(skipped)}")

    path = Path(out)
    replace_checked(path, dump_key(key).encode("utf-8"), checked)  # all or nothing, only over the file checked
    n_computed = sum(1 for o in outcomes if o.status == "computed")
    n_review = sum(1 for o in outcomes if o.status == "review")
    where = f"; evidence in {run.evidence_dir}" if run.evidence_dir else ""
    reused = f"; {len(run.cache_hits)} reused from the cache ({', '.join(run.cache_hits)})" if run.cache_hits else ""
    review = f", {n_review} for review" if n_review else ""
    n_pending = len(outcomes) - n_computed - n_review
    print(f"wrote {path}: {n_computed} computed{review}, {n_pending} pending{where}{reused}")
    if n_review:
        print(f"next: a TA decides the open claims of {', '.join(key.in_review)} by listening: `hw10 review {path} "
              f"--evidence-dir {run.evidence_dir or 'DIR'} --out SHEET` (until then they are not graded)")
    if key.from_fixtures:
        print(f"note: {', '.join(key.from_fixtures)} computed from hw10 test fixtures (level: fixture): this key is "
              "a demo, not the homework's; `hw10 grade` withholds grades.csv for it")
    if report:
        page = render_evidence_report(questions, key, Path(report), run.evidence_dir, key_name=path.name,
                                      inputs=(path,))
        print(f"wrote {page}")
    return EXIT_OK


def _check_out(out: Path, force: bool) -> tuple[int, int, int, int] | None:
    """Refuse to overwrite ``out`` unless it is a key computed earlier (every answer computed, in review or pending)
    or ``force``: a key holding a TA's work (an answer asserted or reviewed), a symbolic link or a file that is no
    hw10 key is kept. Returns what identifies the file checked (None: nothing there), so that only that file is
    replaced."""
    if out.is_dir() and not out.is_symlink():
        raise InputError("is a folder: --out names the key file to write", file=str(out))
    checked = same_file(out)
    if force or checked is None:
        return checked
    if out.is_symlink():
        raise InputError("is a symbolic link (never written through); choose another --out or pass --force",
                         file=str(out))
    try:
        key = parse_key(load_yaml_file(out), str(out))
    except InputError as exc:
        why = exc.message if exc.message.startswith("not an hw10 answer key") else \
            f"is not an hw10 answer key ({exc.message})"
    else:
        by_ta = {st: [q for q, a in sorted(key.answers.items()) if a.status == st] for st in ("asserted", "reviewed")}
        if not any(by_ta.values()):
            return checked
        why = "holds a TA's work (status: " + "; ".join(f"{st} for {', '.join(qs)}" for st, qs in by_ta.items() if qs) \
            + ")"
    raise InputError(f"{why}; choose another --out or pass --force to overwrite it", file=str(out))


def _check_report(report: Path, out: Path, evidence_dir: str | Path | None) -> None:
    """Refuse, before any model loads, a report folder that would hold the key written or nest with the evidence
    folder (:func:`reports.evidence_report.write_page_folder` refuses them too, after the run)."""
    folder = report.absolute()
    if folder in out.absolute().parents:
        raise InputError(f"the key --out {out} would lie inside the report folder: choose another --report",
                         file=str(report))
    if evidence_dir is not None:
        ev = Path(evidence_dir).absolute()
        if ev == folder or ev in folder.parents or folder in ev.parents:
            raise InputError(f"the report folder and the evidence folder ({evidence_dir}) must not lie inside each "
                             "other: choose another --report", file=str(report))
