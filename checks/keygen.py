"""``hw10 key``: run the selected checks and turn their decisions into an answer key with provenance.

One question's failure (a missing asset, a model that cannot load, an unreadable clip, a bug) makes
that question ``pending`` with the reason; the others still run. Nothing here prints.
"""
from __future__ import annotations

import logging
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from grader import __version__
from grader.errors import InputError
from grader.key import AnswerKey, KeyAnswer

from .assets import AssetMissing, find_asset, require_asset
from .cache import fingerprint_path
from .audio import RESAMPLER, AudioError
from .context import CheckContext
from .evidence import Evidence, SpecError
from .mimi import ModelMismatch
from .registry import NotImplementedCheck, load_check, optional_assets

log = logging.getLogger(__name__)

Blocker = Literal["selection", "not-implemented", "asset", "model", "weights", "input", "error"]


@dataclass
class QuestionOutcome:
    """What ``hw10 key`` found for one question."""

    qid: str
    status: Literal["computed", "pending"]
    correct: tuple[str, ...] = ()
    level: Literal["structural", "model", "fixture"] | None = None
    """``structural``: decided with random-weight models only; ``model``: with trained weights;
    ``fixture``: with an hw10 test checkpoint (says nothing about the homework's answer)."""
    reason: str | None = None
    """Why pending."""
    evidence: Evidence | None = None
    margin: float | None = None
    """Smallest margin to a threshold among the verdicts the decision rests on (None: exact)."""
    blocked_by: Blocker | None = None
    """What kept a pending question from being computed."""
    model_error: str | None = None
    """Name of the model that failed to load (when ``blocked_by == 'model'``)."""


def _pending(qid: str, reason: str, blocked_by: Blocker, **kw: Any) -> QuestionOutcome:
    return QuestionOutcome(qid, "pending", reason=reason, blocked_by=blocked_by, **kw)


def answer_level(random_models: bool, fixture_models: bool) -> Literal["structural", "model", "fixture"]:
    """The label a computed answer gets: ``fixture`` when any model it used is an hw10 test checkpoint (even
    a structural answer: the key must not pass for a real one), else ``structural`` with random weights,
    else ``model``."""
    if fixture_models:
        return "fixture"
    return "structural" if random_models else "model"


def run_question(spec, ctx: CheckContext) -> QuestionOutcome:
    """Compute and decide one question; never raises for a problem confined to this question."""
    module = load_check(spec.check.module)
    if isinstance(module, NotImplementedCheck):
        return _pending(spec.id, module.reason, "not-implemented")
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
        return _pending(spec.id, "; ".join(missing), "asset")
    random_models, fixture_models = [], []
    for name in spec.check.models:
        try:
            model = ctx.model(name)
        except InputError as exc:
            return _pending(spec.id, f"{name} unavailable: {exc}", "model", model_error=name)
        info = getattr(model, "info", None)
        if getattr(info, "random_weights", False):
            random_models.append(f"{name}: {info.description}")
        if getattr(info, "fixture", None):
            fixture_models.append(name)
    if spec.check.level == "model" and random_models:
        return _pending(spec.id, "the answer lives in the trained weights, and this run has random ones ("
                        + "; ".join(random_models) + "): run `hw10 key` with the real model", "weights")
    level = answer_level(bool(random_models), bool(fixture_models))
    try:
        evidence = module.compute(ctx, spec)
        decision = module.decide(evidence, spec)
    except (AssetMissing, AudioError) as exc:
        return _pending(spec.id, str(exc), "asset")
    except (SpecError, ModelMismatch) as exc:
        return _pending(spec.id, str(exc), "input")
    except InputError as exc:
        return _pending(spec.id, str(exc), "input")
    except Exception as exc:  # a failing check must not stop the others
        log.debug("%s failed", spec.id, exc_info=True)
        return _pending(spec.id, f"check failed: {type(exc).__name__}: {exc}", "error")
    if decision.status == "computed":
        return QuestionOutcome(spec.id, "computed", tuple(decision.correct), level, None, evidence, decision.margin)
    return QuestionOutcome(spec.id, "pending", reason=decision.reason, evidence=evidence, margin=decision.margin)


def run_checks(bank, selected: list[str], ctx: CheckContext, cache=None, progress=None) -> list[QuestionOutcome]:
    """Every question of the bank, in order: the selected ones computed, the rest pending.

    ``cache`` (a :class:`checks.cache.KeyCache`) reuses outcomes computed before with the same inputs;
    ``progress(qid, outcome, cached)`` is called after each selected question."""
    outcomes = []
    for spec in bank:
        if spec.id not in selected:
            outcomes.append(_pending(spec.id, "not computed in this run (not among its questions)", "selection"))
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


def is_fragile(evidence: dict[str, Any] | None) -> bool:
    """A decision is fragile when a verdict it rests on says so: seeds or the resampling interval fall
    on both sides of a threshold (checks write ``FRAGILE: …`` into that verdict's ``why``)."""
    if not evidence:
        return False
    return any("FRAGILE" in str(v.get("why", "")) for v in (evidence.get("verdicts") or {}).values())


def _evidence_for_key(o: QuestionOutcome) -> dict[str, Any] | None:
    if o.evidence is None:
        return None
    d = o.evidence.to_dict()
    d.pop("artifacts", None)
    if o.margin is not None:
        d["margin"] = float(f"{o.margin:.6g}")
    return d


def build_key(bank, outcomes: list[QuestionOutcome], provenance: dict[str, Any]) -> AnswerKey:
    answers = {}
    for o in outcomes:
        evidence = _evidence_for_key(o)
        answers[o.qid] = KeyAnswer(correct=list(o.correct), status=o.status,
                                   level=o.level if o.status == "computed" else None,
                                   reason=o.reason, evidence=evidence, fragile=is_fragile(evidence))
    return AnswerKey(format="hw10-key/1", questions_sha256=bank.sha256(), provenance=provenance, answers=answers)


def _version(distribution: str) -> str:
    """Installed version, read from package metadata (importing torch just for this costs seconds)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def build_provenance(bank, selected: list[str], ctx: CheckContext, outcomes: list[QuestionOutcome],
                     requested: dict[str, Any], command: str | None = None,
                     cached_models: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Everything needed to reproduce the key: versions, models (id, revision, hash), device, assets, time."""
    models: dict[str, Any] = {}
    for name, provider in ctx.models.items():
        try:
            if provider.loaded:
                models[name] = provider.get().info.to_dict()
            elif cached_models and name in cached_models:
                models[name] = {**cached_models[name], "from_cache": True}
            else:
                models[name] = {**{k: v for k, v in requested.get(name, {}).items() if v is not None},
                                "loaded": False}
                if provider.error is not None:
                    models[name]["error"] = str(provider.error)
        except Exception as exc:  # pragma: no cover - defensive
            models[name] = {"error": str(exc)}
    assets: dict[str, str] = {}
    for spec in bank:
        if spec.id in selected:
            for name in spec.check.assets:
                p = find_asset(ctx.assets, name)
                if p is not None:
                    assets[p.name] = fingerprint_path(p)  # a folder (emovdb/): its files' names and sizes
    computed = [o.qid for o in outcomes if o.status == "computed"]
    mimi = models.get("mimi", {})
    desc = mimi.get("description") or mimi.get("ref") or "no model"
    levels = sorted({o.level for o in outcomes if o.level})
    fixtures = sorted(name for name, m in models.items() if isinstance(m, dict) and m.get("fixture"))
    prov: dict[str, Any] = {
        "kind": "computed",
        "description": f"hw10 key: {len(computed)} of {len(selected)} selected questions computed "
                       f"({'/'.join(levels) or 'none'}); Mimi {desc}",
        "package": f"hw10 {__version__}",
        "command": command,
        "questions": list(selected),
        "computed": computed,
        **({"test_fixtures": fixtures} if fixtures else {}),
        "models": models,
        "device": mimi.get("device") or requested.get("mimi", {}).get("device"),
        "dtype": mimi.get("dtype") or requested.get("mimi", {}).get("dtype"),
        "torch": _version("torch"),
        "transformers": _version("transformers"),
        "python": platform.python_version(),
        "resampler": RESAMPLER,
        "seed": ctx.seed,
        "seeds": ctx.repeats or "as in questions/*.yaml (q06 umap_seeds, q11 samples)",
        "thresholds_sha256": bank.thresholds_sha256(),
        "assets": {"dir": str(ctx.assets) if ctx.assets else None, "sha256": assets},
        "time": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }
    return {k: v for k, v in prov.items() if v is not None}


def check_assets_dir(path: Path | None) -> Path | None:
    if path is None:
        return None
    if not path.exists():
        raise InputError("assets folder not found", file=str(path))
    if not path.is_dir():
        raise InputError("--assets must be a folder holding the Colab's files", file=str(path))
    return path
