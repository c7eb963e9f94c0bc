"""The provenance an answer key records: versions, models (id, revision, hash), device, assets, seeds, time."""
from __future__ import annotations

import platform
from datetime import datetime, timezone
from typing import Any

from checks.assets import find_asset, fingerprint_path
from checks.audio import RESAMPLER
from checks.pipeline.context import CheckContext
from checks.pipeline.outcome import QuestionOutcome
from grader.version import __version__


def _version(distribution: str) -> str:
    """Installed version, read from package metadata (importing torch just for this costs seconds)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def build_provenance(bank, selected: list[str], ctx: CheckContext, outcomes: list[QuestionOutcome],
                     requested: dict[str, Any], command: str | None = None,
                     cached_models: dict[str, dict[str, Any]] | None = None,
                     numerics: dict[str, Any] | None = None) -> dict[str, Any]:
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
        "numerics": numerics,
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
