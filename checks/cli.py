"""``hw10 key``: compute the answer key from the models (registered into :mod:`grader.cli`).

Importing this module does not import torch; the command imports the model code when it runs.
This is the only module of :mod:`checks` that prints.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from grader.cli import positive_int
from grader.errors import InputError

DEFAULT_OUT = "key.yaml"


def register(subparsers) -> None:
    k = subparsers.add_parser(
        "key", help="compute the answer key from the models and assets, with evidence",
        description="Run the checks of the selected questions and write an answer key (format hw10-key/1). "
                    "A question whose assets or models are missing is written as pending with the reason.")
    add_run_options(k)
    k.add_argument("--out", metavar="KEY", default=DEFAULT_OUT, help=f"answer key to write (default {DEFAULT_OUT})")
    k.add_argument("--report", metavar="DIR", help="also write the evidence report (HTML with plots and audio) here")
    k.add_argument("--force", action="store_true",
                   help="overwrite --out even when it holds a hand-written key (status: asserted) or is not an hw10 "
                        "key (a key computed earlier is overwritten without it)")
    k.set_defaults(func=cmd_key)

    c = subparsers.add_parser(
        "check", help="student self-check: score your answers against the evidence (or a key)",
        description="Score your answers with the same function `hw10 grade` uses. Without --key the checks "
                    "you select run here first (needs the model extras and the Colab's files).")
    c.add_argument("--answers", required=True, metavar="FILE",
                   help="your answers: YAML/JSON (q01: B, q06: [A, C]) or a text file of lines like 'q01 B'")
    c.add_argument("--key", metavar="KEY", help="score against this key instead of computing the evidence here")
    add_run_options(c)
    c.set_defaults(func=cmd_check)

    v = subparsers.add_parser(
        "verify", help="check an official key against computed evidence (exit 1 on disagreement)",
        description="List every question where the official key and the evidence disagree, with the numbers.")
    v.add_argument("--key", required=True, metavar="OFFICIAL", help="the key to verify (e.g. typed in by a TA)")
    v.add_argument("--against", metavar="COMPUTED",
                   help="a key computed earlier by `hw10 key` (default: compute the evidence now)")
    v.add_argument("--strict", action="store_true", help="also exit 1 when a question cannot be verified")
    add_run_options(v)
    v.set_defaults(func=cmd_verify)


def add_run_options(k) -> None:
    """The flags that choose questions, assets, models and settings (shared by key, check and verify)."""
    from .csm import CSM_DTYPES
    from .mimi import DEFAULT_MIMI, DTYPES
    from .providers import DEFAULT_ASR, DEFAULT_CSM, DEFAULT_SPEAKER

    k.add_argument("--questions", dest="select", metavar="SPEC", default=None,
                   help="questions to compute, e.g. 1-5,9 or q01,q03 (default: all)")
    k.add_argument("--assets", metavar="DIR", help="folder with the Colab's files (2sAudio.wav, 4sAudio.wav, …)")
    k.add_argument("--mimi", metavar="ID|PATH|architecture", default=DEFAULT_MIMI,
                   help=f"Mimi weights: a Hub id (default {DEFAULT_MIMI}), a local save_pretrained folder, or "
                        "'architecture' (full-size config, seeded random weights: structural questions only)")
    k.add_argument("--mimi-revision", metavar="REV", help="Hub revision (branch, tag or commit) of --mimi")
    k.add_argument("--asr", metavar="BACKEND:MODEL", default=DEFAULT_ASR,
                   help=f"speech recognition for q09-q11 (default {DEFAULT_ASR}, what the homework used; offline: "
                        "faster-whisper:tiny.en-bundled or faster-whisper:PATH)")
    k.add_argument("--asr-beam", type=int, default=5, help="ASR beam size (default 5; decoding is at temperature 0)")
    k.add_argument("--speaker", metavar="ENCODER", default=DEFAULT_SPEAKER,
                   help="speaker-similarity encoder for q10/q11: resemblyzer (default, offline) or wavlm[:ID|PATH]")
    k.add_argument("--csm", metavar="ID|PATH", default=DEFAULT_CSM,
                   help=f"CSM for q11/q12: a Hub id (default {DEFAULT_CSM}, gated: set HF_TOKEN or `hf auth login` "
                        "after accepting its terms) or a local folder holding the model and its processor")
    k.add_argument("--csm-revision", metavar="REV", help="Hub revision (branch, tag or commit) of --csm")
    k.add_argument("--csm-dtype", default="auto", choices=CSM_DTYPES,
                   help="CSM dtype (default auto: bfloat16 on a GPU, float32 on the CPU)")
    k.add_argument("--csm-max-new-tokens", type=positive_int, metavar="N",
                   help="most frames per CSM generation (12.5 per second; default: the questions' max_new_tokens)")
    k.add_argument("--samples", type=positive_int, metavar="N",
                   help="CSM generations for q11 (different seeds; default: q11.yaml's samples)")
    k.add_argument("--device", default="auto", help="auto (cuda when available), cpu or cuda (default auto)")
    k.add_argument("--dtype", default="float32", choices=DTYPES, help="model dtype (default float32)")
    k.add_argument("--seed", type=int, default=0, help="seed of random weights and generated signals (default 0)")
    k.add_argument("--seeds", type=positive_int, metavar="N", default=None,
                   help="repeat every stochastic step with N seeds (q06 UMAP fits, q11 CSM samples) and record "
                        "their agreement (default: the counts in questions/*.yaml)")
    k.add_argument("--evidence-dir", metavar="DIR", help="write each question's evidence (YAML) and artifacts here")
    k.add_argument("--emovdb", metavar="DIR", help="EmoV-DB folder for q06 (default: ASSETS/emovdb); "
                                                   "https://www.openslr.org/115/")
    k.add_argument("--per-class", type=positive_int, metavar="N", default=None,
                   help="q06: EmoV-DB clips per emotion (default: thresholds.per_class in questions/q06.yaml)")
    k.add_argument("--cache", metavar="DIR", help="cache of computed questions (default $HW10_CACHE/key or "
                                                  "~/.cache/hw10/key): a rerun with the same inputs takes seconds")
    k.add_argument("--no-cache", action="store_true", help="recompute everything (and store nothing)")


def _command_line(args: argparse.Namespace) -> str:
    parts = ["hw10 key"]
    for flag, value in (("--questions", args.select), ("--assets", args.assets), ("--mimi", args.mimi),
                        ("--mimi-revision", args.mimi_revision), ("--asr", args.asr), ("--asr-beam", args.asr_beam),
                        ("--speaker", args.speaker), ("--csm", args.csm), ("--csm-revision", args.csm_revision),
                        ("--csm-dtype", args.csm_dtype), ("--csm-max-new-tokens", args.csm_max_new_tokens),
                        ("--samples", args.samples), ("--device", args.device), ("--dtype", args.dtype),
                        ("--seed", args.seed), ("--seeds", args.seeds), ("--out", args.out),
                        ("--evidence-dir", args.evidence_dir),
                        ("--emovdb", args.emovdb), ("--per-class", args.per_class)):
        if value is not None:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


def _one_line(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _run(args: argparse.Namespace, bank, command: str | None = None):
    from .keyrun import KeyRunOptions, check_options, compute_key

    opts = KeyRunOptions.from_args(args, command=command)
    if getattr(args, "report", None) and opts.evidence_dir is None:
        opts.evidence_dir = Path(args.report) / "evidence"
    checked = check_options(opts, bank)  # bad options stop here (exit 2), before anything is promised
    selected, missing = checked.selected, checked.missing
    print(f"hw10 {args.command}: {', '.join(selected)} · Mimi {args.mimi}"
          + (f"@{args.mimi_revision}" if args.mimi_revision else "")
          + f" · device {args.device} · {args.dtype} · assets {args.assets or '(none)'}", flush=True)
    if missing:  # said before any model loads
        print(f"  missing assets ({'in ' + args.assets if args.assets else 'no --assets given'}): "
              + "; ".join(f"{name} (for {', '.join(q)})" for name, q in missing.items())
              + " — those questions will be pending", flush=True)
    run = compute_key(opts, bank, progress=_progress_bar(selected, f"hw10 {args.command}"), checked=checked)
    sys.stdout.flush()
    for name, message in run.model_errors.items():
        print(f"error: {message}", file=sys.stderr, flush=True)
    return run


def cmd_key(args: argparse.Namespace) -> int:
    from grader.key import dump_key
    from grader.spec import load_bank

    from .evidence import margin_text

    _check_out(Path(args.out), args.force)  # before any model loads
    bank = load_bank(args.questions_dir)
    run = _run(args, bank, command=_command_line(args))
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
            print(f"        evidence: {_one_line(ev.summary if ev else '')}")
        else:
            why = "model unavailable (see the error message)" if o.blocked_by == "model" else o.reason
            print(f"  {o.qid}  {'—':8} pending: {_one_line(why or '', 400)}")
            if o.evidence is not None:
                print(f"        evidence: {_one_line(o.evidence.summary)}")
    skipped = [o.qid for o in outcomes if o.blocked_by == "selection"]
    if skipped:
        print(f"  not selected (pending in the key): {', '.join(skipped)}")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_key(key), encoding="utf-8")
    n_computed = sum(1 for o in outcomes if o.status == "computed")
    where = f"; evidence in {run.evidence_dir}" if run.evidence_dir else ""
    reused = f"; {len(run.cache_hits)} reused from the cache ({', '.join(run.cache_hits)})" if run.cache_hits else ""
    print(f"wrote {out}: {n_computed} computed, {len(outcomes) - n_computed} pending{where}{reused}")
    if key.from_fixtures:
        print(f"note: {', '.join(key.from_fixtures)} computed from hw10 test fixtures (level: fixture): this key is "
              "a demo, not the homework's; `hw10 grade` withholds grades.csv for it")
    if args.report:
        from reports.evidence_report import render_evidence_report

        page = render_evidence_report(bank, key, Path(args.report), run.evidence_dir, key_name=out.name)
        print(f"wrote {page}")
    return 0


def _check_out(out: Path, force: bool) -> None:
    """Refuse to overwrite ``out`` unless it is a key computed earlier (every answer computed or pending) or
    ``force``: a hand-written key (an answer with ``status: asserted``) or a file that is no hw10 key is kept."""
    from grader.key import parse_key
    from grader.spec import load_yaml_file

    if out.is_dir():
        raise InputError("is a folder: --out names the key file to write", file=str(out))
    if force or not out.exists():
        return
    try:
        key = parse_key(load_yaml_file(out), str(out))
    except InputError as exc:
        why = exc.message if exc.message.startswith("not an hw10 answer key") else \
            f"is not an hw10 answer key ({exc.message})"
    else:
        asserted = [q for q, a in sorted(key.answers.items()) if a.status == "asserted"]
        if not asserted:
            return
        why = f"holds a hand-written key (status: asserted for {', '.join(asserted)})"
    raise InputError(f"{why}; choose another --out or pass --force to overwrite it", file=str(out))


_ANSWER_LINE = re.compile(r"^(q?\s*\d{1,2})(?:\s*(?:[:=.)]|\s)\s*(.*))?$", re.I)
"""``q01 B``, ``q06: A, C``, ``6 = A;B``, ``1. B``, ``q05:`` (blank), after :func:`normalise_text`."""


def _read_answers(path: Path, bank) -> dict[str, list[str]]:
    """The self-check's answers, each checked against its question: a YAML/JSON mapping (``q01: B``,
    ``q06: [A, C]``, optionally under ``answers:``) or text lines like ``q01 B``, ``6: A,C``, ``Ｑ０３：Ｂ``,
    ``q10: A、C``, ``q04 (b).`` (``#`` starts a comment).

    Refused, naming the file and line: a line that cannot be read, a question the quiz does not have, a
    letter the question does not have, a question answered twice differently, an answer key, a file
    without any answer."""
    from grader.readers.plain import normalise_text, option_tokens, question_id
    from grader.spec import read_utf8

    file = str(path)
    text = read_utf8(path)
    entries = _mapping_entries(text, path)
    if entries is None:  # text lines
        entries = []
        for n, raw in enumerate(text.splitlines(), start=1):
            line = normalise_text(raw).split("#", 1)[0].strip()
            if not line:
                continue
            m = _ANSWER_LINE.match(line)
            if not m:
                raise InputError(f"cannot read {raw.strip()!r}: expected a line like 'q01 B' or 'q06: A, C'",
                                 file=file, row=n)
            entries.append((m.group(1), m.group(2), n))
    answers: dict[str, list[str]] = {}
    lines: dict[str, int | None] = {}
    for name, value, n in entries:
        qid = question_id(name)
        if qid is None or qid not in bank:
            raise InputError(f"no question {name!r} in this quiz (questions are {bank.ids[0]} … {bank.ids[-1]})",
                             file=file, row=n)
        spec = bank[qid]
        tokens = option_tokens(value)
        bad = [t for t in tokens if t not in spec.letters]
        if bad:
            raise InputError(f"cannot read the answer to {qid}, {value!r}: {', '.join(bad)} "
                             f"{'is not an option' if len(bad) == 1 else 'are not options'} of {qid} "
                             f"({', '.join(spec.letters)})", file=file, row=n)
        letters = sorted(set(tokens))
        if qid in answers and answers[qid] != letters:
            first, then = (f"{','.join(ls) or 'blank'}" + (f" on line {ln}" if ln is not None else "")
                           for ls, ln in ((answers[qid], lines[qid]), (letters, n)))
            raise InputError(f"{qid} is answered twice with different answers: {first} and {then}", file=file, row=n)
        answers[qid], lines[qid] = letters, n
    if not any(answers.values()):
        raise InputError("no answers found: write one line per question, like 'q01 B' or 'q06: A, C' "
                         "(or YAML/JSON: q01: B)", file=file)
    return answers


def _mapping_entries(text: str, path: Path) -> list[tuple[object, object, int | None]] | None:
    """(question as written, answer, line) of a YAML/JSON answers mapping; None when the text is not one."""
    import yaml

    from grader.readers.plain import refuse_answer_key

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if not isinstance(node, yaml.MappingNode):
            return None
        data = loader.construct_document(node)
        pairs = [(k, v, loader.construct_object(k, deep=True)) for k, v in node.value]
        if isinstance(data, dict):
            refuse_answer_key(data, str(path))
            if "answers" in data:
                knode, vnode, _ = next(p for p in pairs if p[2] == "answers")
                if not isinstance(vnode, yaml.MappingNode):
                    raise InputError("'answers' must be a mapping", file=str(path), row=knode.start_mark.line + 1)
                pairs = [(k, v, loader.construct_object(k, deep=True)) for k, v in vnode.value]
            else:
                pairs = [p for p in pairs if p[2] not in ("id", "name", "section")]
            return [(name, loader.construct_object(v, deep=True), k.start_mark.line + 1) for k, v, name in pairs]
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    return _json_entries(text, path) if path.suffix.lower() == ".json" else None


def _json_entries(text: str, path: Path) -> list[tuple[object, object, int | None]] | None:
    """Entries of JSON that YAML does not read (tabs), without line numbers."""
    import json

    from grader.readers.plain import refuse_answer_key

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg}", file=str(path), row=exc.lineno) from None
    if not isinstance(data, dict):
        return None
    refuse_answer_key(data, str(path))
    answers = data.get("answers", data)
    if not isinstance(answers, dict):
        raise InputError("'answers' must be a mapping", file=str(path), column="answers")
    return [(k, v, None) for k, v in answers.items() if answers is not data or k not in ("id", "name", "section")]


def cmd_check(args: argparse.Namespace) -> int:
    from grader.key import load_key
    from grader.selfcheck import answers_from, score_against_key
    from grader.spec import load_bank

    bank = load_bank(args.questions_dir)
    sub = answers_from(_read_answers(Path(args.answers), bank), bank)
    if args.key:
        key, desc = load_key(args.key, bank), args.key
    else:
        if args.select is None:  # only what the student answered (the others: "not among its questions")
            args.select = ",".join(sorted(sub.answers)) or None
        run = _run(args, bank, command="hw10 check")
        key, desc = run.key, "computed here"
    print(score_against_key(bank, key, sub, key_description=desc))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from grader.key import load_key
    from grader.spec import load_bank
    from grader.verify import compare_keys

    bank = load_bank(args.questions_dir)
    official = load_key(args.key, bank)
    computed = load_key(args.against, bank) if args.against else _run(args, bank, command="hw10 verify").key
    rows = compare_keys(bank, official, computed)
    for r in rows:
        mark = {"agree": "agrees", "disagree": "DISAGREES", "unverified": "not verified"}[r.outcome]
        fragile = " · FRAGILE evidence" if r.fragile else ""
        print(f"  {r.qid}  official {','.join(r.official) or '—':8} computed {','.join(r.computed) or '—':8} "
              f"{mark}{fragile}: {_one_line(r.detail, 300)}")
    bad = [r.qid for r in rows if r.outcome == "disagree"]
    unverified = [r.qid for r in rows if r.outcome == "unverified"]
    fragile = [r.qid for r in rows if r.fragile and r.outcome != "unverified"]
    print(f"{len(rows) - len(bad) - len(unverified)} agree, {len(bad)} disagree"
          + (f" ({', '.join(bad)})" if bad else "") + f", {len(unverified)} not verified"
          + (f", fragile evidence: {', '.join(fragile)}" if fragile else ""))
    if computed.from_fixtures:
        print(f"note: the evidence for {', '.join(computed.from_fixtures)} comes from hw10 test fixtures (level: "
              "fixture): agreement there says nothing about the real models")
    if bad or (args.strict and unverified):
        return 1
    return 0


def _progress_bar(selected: list[str], label: str = "hw10 key"):
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
