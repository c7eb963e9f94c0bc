"""Computing a key programmatically: what ``hw10 key``, ``hw10 check``, ``hw10 verify`` and the
notebook self-check share. Nothing here prints."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from grader.errors import InputError
from grader.key import AnswerKey
from grader.spec import QuestionBank

from .mimi import DEFAULT_MIMI
from .providers import DEFAULT_ASR, DEFAULT_CSM, DEFAULT_SPEAKER


@dataclass
class KeyRunOptions:
    """Everything that selects models, assets and settings for one key computation (the CLI flags)."""

    select: str | None = None
    """Questions, e.g. ``1-5,9`` (None: all)."""
    assets: str | Path | None = None
    mimi: str = DEFAULT_MIMI
    mimi_revision: str | None = None
    asr: str = DEFAULT_ASR
    asr_beam: int = 5
    speaker: str = DEFAULT_SPEAKER
    csm: str = DEFAULT_CSM
    csm_revision: str | None = None
    csm_dtype: str = "auto"
    csm_max_new_tokens: int | None = None
    samples: int | None = None
    device: str = "auto"
    dtype: str = "float32"
    seed: int = 0
    seeds: int | None = None
    """Repeat every stochastic step with this many seeds (q06 UMAP fits, q11 samples); None: the YAML counts."""
    evidence_dir: str | Path | None = None
    emovdb: str | Path | None = None
    per_class: int | None = None
    cache: str | Path | None = None
    no_cache: bool = False
    command: str | None = None
    """The command line to record in the provenance."""

    @classmethod
    def from_args(cls, args: Any, **overrides: Any) -> "KeyRunOptions":
        names = cls.__dataclass_fields__.keys()
        values = {n: getattr(args, n) for n in names if hasattr(args, n)}
        values.update(overrides)
        return cls(**values)


@dataclass
class KeyRun:
    key: AnswerKey
    outcomes: list
    """:class:`checks.keygen.QuestionOutcome` per question of the bank."""
    selected: list[str]
    evidence_dir: Path | None
    cache_hits: list[str] = field(default_factory=list)
    model_errors: dict[str, str] = field(default_factory=dict)
    """Model name → the message of its failed load (said once, not per question)."""
    missing_assets: dict[str, list[str]] = field(default_factory=dict)
    """Asset file → the selected questions that need it, for every file the assets folder lacks."""


def missing_assets(bank: QuestionBank, selected: list[str], assets: Path | None,
                   emovdb: Path | None = None) -> dict[str, list[str]]:
    """The assets manifest checked before any model loads: each missing file with the questions needing it.

    Optional assets (a check that can do without them, e.g. q02's 8sAudio.wav) are not listed."""
    from .assets import find_asset, manifest
    from .registry import load_check, optional_assets

    optional: set[str] = set()
    for qid in selected:
        module = load_check(bank[qid].check.module)
        optional |= set(optional_assets(module)) if hasattr(module, "__name__") else set()
    out = {}
    for name, qids in manifest(bank[q] for q in selected).items():
        if name in optional:
            continue
        if name.rstrip("/") == "emovdb" and emovdb is not None:
            continue
        if find_asset(assets, name) is None:
            out[name] = sorted(qids)
    return out


@dataclass(frozen=True)
class CheckedOptions:
    """What :func:`check_options` found: the run's questions, assets folder and missing assets."""

    selected: list[str]
    assets: Path | None
    missing: dict[str, list[str]]
    """Each missing asset with the questions needing it (:func:`missing_assets`)."""


def check_options(opts: KeyRunOptions, bank: QuestionBank) -> CheckedOptions:
    """Every cheap check of a run's options, before anything is printed or loaded: the question selection,
    the assets folder, a local Mimi folder, ``--mimi-revision`` and the device (InputError, exit 2)."""
    from .keygen import check_assets_dir
    from .mimi import MimiSource, check_local_checkpoint, resolve_device
    from .selection import parse_questions

    selected = parse_questions(opts.select, bank.ids)
    assets = check_assets_dir(Path(opts.assets) if opts.assets else None)
    src = MimiSource(ref=opts.mimi, revision=opts.mimi_revision, device=opts.device, dtype=opts.dtype, seed=opts.seed)
    if src.kind == "local":
        check_local_checkpoint(Path(opts.mimi).expanduser())
    if src.kind != "hub" and opts.mimi_revision:
        raise InputError(f"--mimi-revision applies to a Hub id, not to {opts.mimi!r}")
    if not (opts.device in ("auto", "cpu", "cuda") or opts.device.startswith("cuda:")):
        raise InputError(f"--device {opts.device!r}: choose auto, cpu or cuda")
    if opts.device != "cpu":
        try:
            import torch  # noqa: F401  (without torch every model question becomes pending, said once)
        except ImportError:
            pass
        else:
            resolve_device(opts.device)
    return CheckedOptions(selected, assets, missing_assets(bank, selected, assets,
                                                           Path(opts.emovdb) if opts.emovdb else None))


def compute_key(opts: KeyRunOptions, bank: QuestionBank,
                progress: Callable[[str, Any, bool], None] | None = None,
                checked: CheckedOptions | None = None) -> KeyRun:
    """Compute the key; ``checked``: what :func:`check_options` already found for these ``opts`` (else run here)."""
    from grader import __version__

    from .cache import KeyCache, default_cache_dir
    from .context import CheckContext, LazyModel
    from .csm import CsmRunOptions, CsmSource
    from .keygen import build_key, build_provenance, run_checks
    from .mimi import MimiSource, load_mimi
    from .providers import load_asr_model, load_csm_model, load_speaker_model

    checked = checked or check_options(opts, bank)
    selected, assets, missing = checked.selected, checked.assets, checked.missing
    src = MimiSource(ref=opts.mimi, revision=opts.mimi_revision, device=opts.device, dtype=opts.dtype, seed=opts.seed)
    evidence_dir = Path(opts.evidence_dir) if opts.evidence_dir else None
    csm_src = CsmSource(ref=opts.csm, revision=opts.csm_revision, device=opts.device, dtype=opts.csm_dtype)
    csm_options = CsmRunOptions(samples=opts.samples or opts.seeds, max_new_tokens=opts.csm_max_new_tokens)
    models = {"mimi": LazyModel("mimi", lambda: load_mimi(src)),
              "asr": LazyModel("asr", lambda: load_asr_model(opts.asr, opts.device, opts.asr_beam)),
              "speaker": LazyModel("speaker", lambda: load_speaker_model(opts.speaker, opts.device)),
              "csm": LazyModel("csm", lambda: load_csm_model(csm_src, csm_options))}
    ctx = CheckContext(assets=assets, models=models, evidence_dir=evidence_dir, seed=opts.seed,
                       emovdb=Path(opts.emovdb).expanduser() if opts.emovdb else None,
                       emovdb_per_class=opts.per_class, repeats=opts.seeds)
    requested = {"mimi": {"ref": opts.mimi, "revision": opts.mimi_revision, "device": opts.device,
                          "dtype": opts.dtype},
                 "asr": {"ref": opts.asr, "beam_size": opts.asr_beam, "device": opts.device},
                 "speaker": {"ref": opts.speaker, "device": opts.device},
                 "csm": {"ref": opts.csm, "revision": opts.csm_revision, "device": opts.device,
                         "dtype": opts.csm_dtype, "samples": opts.samples or opts.seeds,
                         "max_new_tokens": opts.csm_max_new_tokens}}
    cache = None if opts.no_cache else KeyCache(Path(opts.cache) if opts.cache else default_cache_dir(),
                                                requested, __version__)
    outcomes = run_checks(bank, selected, ctx, cache=cache, progress=progress)
    provenance = build_provenance(bank, selected, ctx, outcomes, requested, command=opts.command,
                                  cached_models=cache.model_info if cache else None)
    errors: dict[str, str] = {}
    for o in outcomes:
        if o.blocked_by == "model" and o.model_error and o.model_error not in errors:
            errors[o.model_error] = o.reason or ""
    return KeyRun(build_key(bank, outcomes, provenance), outcomes, selected, evidence_dir,
                  list(cache.hits) if cache else [], errors, missing)
