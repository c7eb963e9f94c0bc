"""``hw10 key``: compute the answer key from the models (registered into :mod:`grader.cli`).

Importing this module does not import torch; the command imports the model code when it runs.
This is the only module of :mod:`checks` that prints.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.errors import InputError

DEFAULT_OUT = "key.yaml"


def register(subparsers) -> None:
    from .mimi import DEFAULT_MIMI, DTYPES
    from .csm import CSM_DTYPES
    from .providers import DEFAULT_ASR, DEFAULT_CSM, DEFAULT_SPEAKER

    k = subparsers.add_parser(
        "key", help="compute the answer key from the models and assets, with evidence",
        description="Run the checks of the selected questions and write an answer key (format hw10-key/1). "
                    "A question whose assets or models are missing is written as pending with the reason.")
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
                   help=f"speaker-similarity encoder for q10/q11: resemblyzer (default, offline) or wavlm[:ID|PATH]")
    k.add_argument("--csm", metavar="ID|PATH", default=DEFAULT_CSM,
                   help=f"CSM for q11/q12: a Hub id (default {DEFAULT_CSM}, gated: set HF_TOKEN or `hf auth login` "
                        "after accepting its terms) or a local folder holding the model and its processor")
    k.add_argument("--csm-revision", metavar="REV", help="Hub revision (branch, tag or commit) of --csm")
    k.add_argument("--csm-dtype", default="auto", choices=CSM_DTYPES,
                   help="CSM dtype (default auto: bfloat16 on a GPU, float32 on the CPU)")
    k.add_argument("--csm-max-new-tokens", type=_positive, metavar="N",
                   help="most frames per CSM generation (12.5 per second; default: the questions' max_new_tokens)")
    k.add_argument("--samples", type=_positive, metavar="N",
                   help="CSM generations for q11 (different seeds; default: q11.yaml's samples)")
    k.add_argument("--device", default="auto", help="auto (cuda when available), cpu or cuda (default auto)")
    k.add_argument("--dtype", default="float32", choices=DTYPES, help="model dtype (default float32)")
    k.add_argument("--seed", type=int, default=0, help="seed of random weights and generated signals (default 0)")
    k.add_argument("--out", metavar="KEY", default=DEFAULT_OUT, help=f"answer key to write (default {DEFAULT_OUT})")
    k.add_argument("--evidence-dir", metavar="DIR", help="write each question's evidence (YAML) and artifacts here")
    k.add_argument("--emovdb", metavar="DIR", help="EmoV-DB folder for q06 (default: ASSETS/emovdb); "
                                                   "https://www.openslr.org/115/")
    k.add_argument("--per-class", type=_positive, metavar="N", default=None,
                   help="q06: EmoV-DB clips per emotion (default: thresholds.per_class in questions/q06.yaml)")
    k.add_argument("--report", metavar="DIR", help="also write the evidence report (HTML with plots and audio) here")
    k.add_argument("--cache", metavar="DIR", help="cache of computed questions (default $HW10_CACHE/key or "
                                                  "~/.cache/hw10/key): a rerun with the same inputs takes seconds")
    k.add_argument("--no-cache", action="store_true", help="recompute everything (and store nothing)")
    k.set_defaults(func=cmd_key)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _command_line(args: argparse.Namespace) -> str:
    parts = ["hw10 key"]
    for flag, value in (("--questions", args.select), ("--assets", args.assets), ("--mimi", args.mimi),
                        ("--mimi-revision", args.mimi_revision), ("--asr", args.asr), ("--asr-beam", args.asr_beam),
                        ("--speaker", args.speaker), ("--csm", args.csm), ("--csm-revision", args.csm_revision),
                        ("--csm-dtype", args.csm_dtype), ("--csm-max-new-tokens", args.csm_max_new_tokens),
                        ("--samples", args.samples), ("--device", args.device), ("--dtype", args.dtype),
                        ("--seed", args.seed), ("--out", args.out), ("--evidence-dir", args.evidence_dir),
                        ("--emovdb", args.emovdb), ("--per-class", args.per_class)):
        if value is not None:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


def _one_line(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_key(args: argparse.Namespace) -> int:
    from grader.key import dump_key
    from grader.spec import load_bank

    from .context import CheckContext, LazyModel
    from .evidence import margin_text
    from .keygen import build_key, build_provenance, check_assets_dir, run_checks
    from .mimi import MimiSource, check_local_checkpoint, load_mimi, resolve_device
    from .csm import CsmRunOptions, CsmSource
    from .providers import load_asr_model, load_csm_model, load_speaker_model
    from .selection import parse_questions
    from .cache import KeyCache, default_cache_dir
    from grader import __version__

    bank = load_bank(args.questions_dir)
    selected = parse_questions(args.select, bank.ids)
    assets = check_assets_dir(Path(args.assets) if args.assets else None)
    src = MimiSource(ref=args.mimi, revision=args.mimi_revision, device=args.device, dtype=args.dtype, seed=args.seed)
    if src.kind == "local":
        check_local_checkpoint(Path(args.mimi).expanduser())
    if src.kind != "hub" and args.mimi_revision:
        raise InputError(f"--mimi-revision applies to a Hub id, not to {args.mimi!r}")
    if not (args.device in ("auto", "cpu", "cuda") or args.device.startswith("cuda:")):
        raise InputError(f"--device {args.device!r}: choose auto, cpu or cuda")
    if args.device != "cpu":
        try:
            import torch  # noqa: F401  (without torch every model question becomes pending, said once)
        except ImportError:
            pass
        else:
            resolve_device(args.device)
    evidence_dir = Path(args.evidence_dir) if args.evidence_dir else None
    models = {"mimi": LazyModel("mimi", lambda: load_mimi(src)),
              "asr": LazyModel("asr", lambda: load_asr_model(args.asr, args.device, args.asr_beam)),
              "speaker": LazyModel("speaker", lambda: load_speaker_model(args.speaker, args.device))}
    csm_src = CsmSource(ref=args.csm, revision=args.csm_revision, device=args.device, dtype=args.csm_dtype)
    csm_options = CsmRunOptions(samples=args.samples, max_new_tokens=args.csm_max_new_tokens)
    models["csm"] = LazyModel("csm", lambda: load_csm_model(csm_src, csm_options))
    if args.report and evidence_dir is None:
        evidence_dir = Path(args.report) / "evidence"
    ctx = CheckContext(assets=assets, models=models, evidence_dir=evidence_dir, seed=args.seed,
                       emovdb=Path(args.emovdb).expanduser() if args.emovdb else None,
                       emovdb_per_class=args.per_class)
    requested_models = {"mimi": {"ref": args.mimi, "revision": args.mimi_revision, "device": args.device,
                                 "dtype": args.dtype},
                        "asr": {"ref": args.asr, "beam_size": args.asr_beam, "device": args.device},
                        "speaker": {"ref": args.speaker, "device": args.device},
                        "csm": {"ref": args.csm, "revision": args.csm_revision, "device": args.device,
                                "dtype": args.csm_dtype, "samples": args.samples,
                                "max_new_tokens": args.csm_max_new_tokens}}

    print(f"hw10 key: {', '.join(selected)} · Mimi {args.mimi}"
          + (f"@{args.mimi_revision}" if args.mimi_revision else "")
          + f" · device {args.device} · {args.dtype} · assets {assets or '(none)'}", flush=True)
    cache = None
    if not args.no_cache:
        cache = KeyCache(Path(args.cache) if args.cache else default_cache_dir(), requested_models, __version__)
    outcomes = run_checks(bank, selected, ctx, cache=cache, progress=_progress_bar(selected))
    provenance = build_provenance(bank, selected, ctx, outcomes, requested_models, command=_command_line(args),
                                  cached_models=cache.model_info if cache else None)
    key = build_key(bank, outcomes, provenance)

    mimi_info = provenance.get("models", {}).get("mimi", {})
    if mimi_info.get("description"):
        print(f"  Mimi: {mimi_info['description']} on {mimi_info.get('device')} ({mimi_info.get('dtype')})")
    model_errors: dict[str, str] = {}
    for o in outcomes:
        if o.blocked_by == "model" and o.model_error and o.model_error not in model_errors:
            model_errors[o.model_error] = o.reason or ""
    sys.stdout.flush()
    for name, message in model_errors.items():
        print(f"error: {message}", file=sys.stderr, flush=True)
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
    where = f"; evidence in {evidence_dir}" if evidence_dir else ""
    reused = f"; {len(cache.hits)} reused from the cache ({', '.join(cache.hits)})" if cache and cache.hits else ""
    print(f"wrote {out}: {n_computed} computed, {len(outcomes) - n_computed} pending{where}{reused}")
    if args.report:
        from reports.evidence_report import render_evidence_report

        page = render_evidence_report(bank, key, Path(args.report), evidence_dir, key_name=out.name)
        print(f"wrote {page}")
    return 0


def _progress_bar(selected: list[str]):
    """A tqdm bar over the selected questions (on stderr; silent when tqdm is missing)."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the models extra
        return None
    bar = tqdm(total=len(selected), desc="hw10 key", unit="question", file=sys.stderr, leave=False)

    def update(qid: str, outcome, cached: bool) -> None:
        bar.set_postfix_str(f"{qid} {'cached' if cached else outcome.status}")
        bar.update(1)
        if bar.n >= bar.total:
            bar.close()
    return update
