"""What ``hw10 key``, ``hw10 check`` and ``hw10 verify`` share: computing the evidence with the terminal's
header, the missing assets said before any model loads, a progress bar, and each model's load error once."""
from __future__ import annotations

import sys
from pathlib import Path

from checks.pipeline.doctor import examine
from checks.pipeline.options import KeyRunOptions
from checks.pipeline.preflight import check_options
from checks.pipeline.run import KeyRun, compute_key
from grader.errors import InputError
from grader.spec import QuestionBank

__all__ = ["compute", "progress_bar", "report_evidence_dir"]


def report_evidence_dir(report: str | Path) -> Path:
    """Where ``hw10 key --report REPORT`` puts the evidence without ``--evidence-dir``: ``REPORT-evidence``, beside
    the report folder (inside it, the report's rewrite would refuse or replace it)."""
    report = Path(report)
    return report.with_name(f"{report.name}-evidence")


def compute(options: KeyRunOptions, questions: QuestionBank, verb: str, report: str | None = None) -> KeyRun:
    """Compute the key of ``options`` for ``hw10 {verb}``, saying on the terminal what runs and what is missing.

    With a ``report`` folder and no ``--evidence-dir`` the evidence goes beside it, to ``REPORT-evidence``
    (:func:`report_evidence_dir`)."""
    if report and options.evidence_dir is None:
        options.evidence_dir = report_evidence_dir(report)
    checked = check_options(options, questions)  # bad options stop here (exit 2), before anything is promised
    stop_on_doctor(options, questions)  # model access, bad assets, disk: before any weights load
    selected, missing = checked.selected, checked.missing
    print(f"hw10 {verb}: {', '.join(selected)} · Mimi {options.mimi}"
          + (f"@{options.mimi_revision}" if options.mimi_revision else "")
          + f" · device {options.device} · {options.dtype} · assets {options.assets or '(none)'}", flush=True)
    if missing:  # said before any model loads
        print(f"  missing assets ({'in ' + str(options.assets) if options.assets else 'no --assets given'}): "
              + "; ".join(f"{name} (for {', '.join(q)})" for name, q in missing.items())
              + " — those questions will be pending", flush=True)
    run = compute_key(options, questions, progress=progress_bar(selected, f"hw10 {verb}"), checked=checked)
    sys.stdout.flush()
    for message in run.model_errors.values():
        print(f"error: {message}", file=sys.stderr, flush=True)
    return run


KEY_STEPS = ["models", "assets", "disk"]
"""The ``hw10 doctor`` steps a key run repeats first (software and device problems already show up as pending
questions and option errors)."""


def stop_on_doctor(options: KeyRunOptions, questions: QuestionBank) -> None:
    """Raise an :class:`InputError` (exit 2) listing every ``hw10 doctor`` problem that stops a key run; missing
    assets do not (their questions are written as pending, as always)."""
    problems = [f for f in examine(options, questions, steps=KEY_STEPS) if f.problem and f.stops_key]
    if problems:
        raise InputError("the run cannot go (hw10 doctor with the same options shows everything):\n"
                         + "\n".join(f"  {f.line()}" for f in problems)
                         + "\n  fix these, or leave the questions that need them out with --questions")


def progress_bar(selected: list[str], label: str = "hw10 key"):
    """A tqdm bar over the selected questions, labelled ``label`` (on stderr; silent when tqdm is missing)."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the models extra
        return None
    bar = tqdm(total=len(selected), desc=label, unit="question", file=sys.stderr, leave=False)

    def update(qid: str, outcome, cached: bool) -> None:
        bar.set_postfix_str(f"{qid} {'cached' if cached else outcome.status}")
        bar.update(1)
        if bar.n >= bar.total:
            bar.close()
    return update
