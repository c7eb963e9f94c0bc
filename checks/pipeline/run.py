"""Computing a key: the pipeline ``hw10 key``, ``hw10 check``, ``hw10 verify`` and the notebook self-check share.

:func:`compute_key` runs these steps, in order (:data:`STEPS`):

1. ``preflight`` — :func:`checks.pipeline.preflight.check_options`: selection, assets, Mimi folder, device;
2. ``models`` — every model a question may need, loaded lazily on first use
   (:class:`checks.pipeline.context.LazyModel`);
3. ``checks`` — :func:`run_checks` in full float32 (:func:`checks.models.numerics.full_precision`): each selected
   question computed (or reused from the cache) and decided;
   one question's failure (a missing asset, a model that cannot load, a bug) makes it ``pending`` with the
   reason while the others still run;
4. ``provenance`` — :func:`checks.pipeline.provenance.build_provenance`;
5. ``key`` — :func:`checks.pipeline.outcome.build_key`.

Nothing here prints.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from checks.assets import AssetMissing, require_asset
from checks.audio import AudioError
from checks.evidence import SpecError
from checks.models.csm import CsmRunOptions, CsmSource
from checks.models.hub import ModelMismatch
from checks.models.mimi import load_mimi
from checks.models.numerics import full_precision, numerics_record
from checks.models.providers import load_asr_model, load_csm_model, load_speaker_model
from checks.pipeline.cache import KeyCache, default_cache_dir
from checks.pipeline.context import CheckContext, LazyModel
from checks.pipeline.options import KeyRunOptions, requested_models
from checks.pipeline.outcome import QuestionOutcome, answer_level, build_key, pending
from checks.pipeline.preflight import CheckedOptions, check_options
from checks.pipeline.provenance import build_provenance
from checks.pipeline.registry import NotImplementedCheck, load_check, optional_assets
from grader.errors import InputError
from grader.key import AnswerKey
from grader.spec import QuestionBank
from grader.version import __version__

log = logging.getLogger(__name__)

STEPS = ("preflight", "models", "checks", "provenance", "key")
"""The named steps of :func:`compute_key`, in order."""


@dataclass
class KeyRun:
    key: AnswerKey
    outcomes: list
    """:class:`checks.pipeline.outcome.QuestionOutcome` per question of the bank."""
    selected: list[str]
    evidence_dir: Path | None
    cache_hits: list[str] = field(default_factory=list)
    model_errors: dict[str, str] = field(default_factory=dict)
    """Model name → the message of its failed load (said once, not per question)."""
    missing_assets: dict[str, list[str]] = field(default_factory=dict)
    """Asset file → the selected questions that need it, for every file the assets folder lacks."""


def run_question(spec, ctx: CheckContext) -> QuestionOutcome:
    """Compute and decide one question; never raises for a problem confined to this question."""
    module = load_check(spec.check.module)
    if isinstance(module, NotImplementedCheck):
        return pending(spec.id, module.reason, "not-implemented")
    optional = optional_assets(module)
    missing = []
    for name in spec.check.assets:
        if name in optional:
            continue
        try:
            require_asset(ctx.assets, name)
        except AssetMissing as exc:
            missing.append(str(exc))
    if missing:
        return pending(spec.id, "; ".join(missing), "asset")
    random_models, fixture_models = [], []
    for name in spec.check.models:
        try:
            model = ctx.model(name)
        except InputError as exc:
            return pending(spec.id, f"{name} unavailable: {exc}", "model", model_error=name)
        info = getattr(model, "info", None)
        if getattr(info, "random_weights", False):
            random_models.append(f"{name}: {info.description}")
        if getattr(info, "fixture", None):
            fixture_models.append(name)
    if spec.check.level == "model" and random_models:
        return pending(spec.id, "the answer lives in the trained weights, and this run has random ones ("
                        + "; ".join(random_models) + "): run `hw10 key` with the real model", "weights")
    level = answer_level(bool(random_models), bool(fixture_models))
    try:
        evidence = module.compute(ctx, spec)
        decision = module.decide(evidence, spec)
    except (AssetMissing, AudioError) as exc:
        return pending(spec.id, str(exc), "asset")
    except (SpecError, ModelMismatch) as exc:
        return pending(spec.id, str(exc), "input")
    except InputError as exc:
        return pending(spec.id, str(exc), "input")
    except Exception as exc:  # a failing check must not stop the others
        log.debug("%s failed", spec.id, exc_info=True)
        return pending(spec.id, f"check failed: {type(exc).__name__}: {exc}", "error")
    if decision.status == "computed":
        return QuestionOutcome(spec.id, "computed", tuple(decision.correct), level, None, evidence, decision.margin)
    # a TA reviews evidence about the homework's models, never about an hw10 test checkpoint's
    open_options = options_to_review(module, evidence, decision, spec) if level != "fixture" else ()
    if open_options:
        supported = tuple(k for k, v in sorted(decision.verdicts.items())
                          if v.verdict == "true" and k not in open_options)
        return QuestionOutcome(spec.id, "review", reason=f"open for a TA's review: {decision.reason}",
                               evidence=evidence, margin=decision.margin, proposed=supported,
                               open_options=open_options)
    return QuestionOutcome(spec.id, "pending", reason=decision.reason, evidence=evidence, margin=decision.margin)


def options_to_review(module, evidence, decision, spec) -> tuple[str, ...]:
    """The options a TA is to decide when a decision is pending: its undecided claims; or (single answer) the
    several options the evidence found true, of which a listener picks one, or every option when the evidence
    found them all false (no option fits: a TA looks, the question is never left pending for it). Nothing when a
    gate says the measurement means nothing with these models (untrained or fixture weights, too few layers), or
    when a multi-answer question's claims are all decided false."""
    verdicts = decision.verdicts
    open_options = tuple(k for k, v in sorted(verdicts.items()) if v.verdict == "undecided")
    if not open_options and spec.kind == "single":
        true = tuple(k for k, v in sorted(verdicts.items()) if v.verdict == "true")
        open_options = true if len(true) > 1 else tuple(sorted(verdicts)) if not true else ()
    if not open_options:
        return ()
    gate = getattr(module, "gate", None)
    return open_options if gate is None or gate(evidence.measured, spec) is None else ()


def run_checks(bank, selected: list[str], ctx: CheckContext, cache=None, progress=None) -> list[QuestionOutcome]:
    """Every question of the bank, in order: the selected ones computed, the rest pending.

    ``cache`` (a :class:`checks.pipeline.cache.KeyCache`) reuses outcomes computed before with the same inputs;
    ``progress(qid, outcome, cached)`` is called after each selected question."""
    outcomes = []
    for spec in bank:
        if spec.id not in selected:
            outcomes.append(pending(spec.id, "not computed in this run (not among its questions)", "selection"))
            continue
        log.info("checking %s (%s)", spec.id, spec.check.module)
        ctx.clear_artifacts(spec.id)
        outcome = None
        cache_key = None
        if cache is not None:
            module = load_check(spec.check.module)
            names = list(spec.check.assets) + [a for a in optional_assets(module) if a not in spec.check.assets]
            cache_key = cache.key_for(spec, ctx, names)
            outcome = cache.load(cache_key, spec.id, ctx.artifact_dir(spec.id))
        cached = outcome is not None
        if outcome is None:
            outcome = run_question(spec, ctx)
            if cache is not None and cache_key is not None:
                cache.store(cache_key, outcome, ctx.artifact_dir(spec.id) if ctx.evidence_dir else None,
                            _models_used(spec, ctx))
        if progress is not None:
            progress(spec.id, outcome, cached)
        if outcome.evidence is not None and ctx.evidence_dir is not None:
            ctx.evidence_dir.mkdir(parents=True, exist_ok=True)
            (ctx.evidence_dir / f"{spec.id}.yaml").write_text(outcome.evidence.to_yaml(), encoding="utf-8")
        outcomes.append(outcome)
    return outcomes


def _models_used(spec, ctx: CheckContext) -> dict[str, dict[str, Any]]:
    """Provenance of the models a question used and that are loaded."""
    out = {}
    for name in spec.check.models:
        provider = ctx.models.get(name)
        if provider is not None and provider.loaded:
            try:
                out[name] = provider.get().info.to_dict()
            except Exception:  # pragma: no cover - defensive
                continue
    return out


def compute_key(opts: KeyRunOptions, bank: QuestionBank,
                progress: Callable[[str, Any, bool], None] | None = None,
                checked: CheckedOptions | None = None) -> KeyRun:
    """Compute the key; ``checked``: what :func:`check_options` already found for these ``opts`` (else run here)."""
    checked = checked or check_options(opts, bank)
    selected, assets, missing = checked.selected, checked.assets, checked.missing
    src = opts.mimi_source
    evidence_dir = Path(opts.evidence_dir) if opts.evidence_dir else None
    csm_src = CsmSource(ref=opts.csm, revision=opts.csm_revision, device=opts.device, dtype=opts.csm_dtype)
    csm_options = CsmRunOptions(samples=opts.csm_samples, max_new_tokens=opts.csm_max_new_tokens)
    models = {"mimi": LazyModel("mimi", lambda: load_mimi(src)),
              "asr": LazyModel("asr", lambda: load_asr_model(opts.asr, opts.device, opts.asr_beam)),
              "speaker": LazyModel("speaker", lambda: load_speaker_model(opts.speaker, opts.device)),
              "csm": LazyModel("csm", lambda: load_csm_model(csm_src, csm_options))}
    ctx = CheckContext(assets=assets, models=models, evidence_dir=evidence_dir, seed=opts.seed,
                       emovdb=Path(opts.emovdb).expanduser() if opts.emovdb else None,
                       emovdb_per_class=opts.per_class, repeats=opts.seeds)
    requested = requested_models(opts)
    cache = None if opts.no_cache else KeyCache(Path(opts.cache) if opts.cache else default_cache_dir(),
                                                requested, __version__)
    with full_precision() as numerics:  # TF32 off for the whole run; the caller's torch settings come back after
        outcomes = run_checks(bank, selected, ctx, cache=cache, progress=progress)
    provenance = build_provenance(bank, selected, ctx, outcomes, requested, command=opts.command,
                                  cached_models=cache.model_info if cache else None,
                                  numerics=numerics_record(numerics))
    errors: dict[str, str] = {}
    for o in outcomes:
        if o.blocked_by == "model" and o.model_error and o.model_error not in errors:
            errors[o.model_error] = o.reason or ""
    return KeyRun(build_key(bank, outcomes, provenance), outcomes, selected, evidence_dir,
                  list(cache.hits) if cache else [], errors, missing)
