"""On-disk cache of ``hw10 key`` results, so an interrupted or repeated run resumes in seconds.

A question's outcome (decision, evidence, artifacts) is stored under a key hashing everything its
computation depends on: the question's spec (thresholds included), the source of the whole
``checks`` package (any code change invalidates), the bytes of its assets (folders: every file's
path and size), the identity of the models it uses (Hub id + revision, or a local folder's file
names, sizes and mtimes; device, dtype and settings), the seed and the package version. Only
outcomes that were actually computed (a decision, or a pending decision *with* evidence) are
stored, plus those whose inputs decided them (random weights, a model too small for the question):
a question blocked by a missing model or asset, or by an error, is retried next time. The
provenance of the models that produced a stored outcome is stored with it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from checks.assets import find_asset, fingerprint_path
from checks.evidence import evidence_yaml
from checks.pipeline.outcome import QuestionOutcome
from grader.safeyaml import dump_yaml

log = logging.getLogger(__name__)

FORMAT = "hw10-key-cache/1"
CACHEABLE_BLOCKERS = (None, "input", "weights")
"""Outcomes decided by their inputs; the rest (missing model/asset, errors) are retried."""


def default_cache_dir() -> Path:
    """``$HW10_KEY_CACHE``, else ``$HW10_CACHE/key``, else ``~/.cache/hw10/key``."""
    if os.environ.get("HW10_KEY_CACHE"):
        return Path(os.environ["HW10_KEY_CACHE"])
    base = os.environ.get("HW10_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "hw10")
    return Path(base) / "key"


def fingerprint_model_ref(ref: Any) -> Any:
    """A model reference as given (Hub id, 'architecture', bundled name) or, for a local folder or
    file, its files' names, sizes and modification times (cheap; a re-copy forces a recompute)."""
    if isinstance(ref, str) and ref:
        candidate = ref.split(":", 1)[1] if ":" in ref and not ref.startswith("/") else ref
        p = Path(candidate).expanduser()
        if p.exists():
            files = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file())
            return {"ref": ref, "files": [(str(q.relative_to(p)) if p.is_dir() else q.name, q.stat().st_size,
                                           q.stat().st_mtime_ns) for q in files]}
    return ref


def checks_source_sha256(root: Path | None = None) -> str:
    """Hash of every module of the ``checks`` package (``root``: its folder), subpackages included: relative
    path and bytes of each ``.py`` file, so a change anywhere under ``checks/`` recomputes the cached questions."""
    root = root or Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class StoredEvidence:
    """Evidence read back from the cache: enough to print, to write into the key and as YAML."""

    qid: str
    summary: str
    data: dict[str, Any]
    artifacts: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.data)
        if self.artifacts:
            d["artifacts"] = self.artifacts
        return d

    def to_yaml(self) -> str:
        return evidence_yaml(self.qid, self.to_dict())


ARTIFACTS_TOKEN = "{hw10-artifacts}"
"""Stands for the question's evidence folder in stored evidence (whatever folder the run that stored it used)."""


def _swap_paths(obj: Any, old: str, new: str) -> Any:
    """``obj`` with ``old`` replaced by ``new`` in every string it holds (dicts and lists walked)."""
    if not old:
        return obj
    if isinstance(obj, str):
        return obj.replace(old, new)
    if isinstance(obj, dict):
        return {k: _swap_paths(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_swap_paths(v, old, new) for v in obj]
    return obj


class KeyCache:
    """Outcomes of computed questions on disk, one folder per cache key."""

    def __init__(self, root: Path, model_ids: dict[str, Any], version: str):
        self.root = root
        self.model_ids = {name: {k: fingerprint_model_ref(v) if k == "ref" else v for k, v in ident.items()}
                          for name, ident in model_ids.items()}
        self.version = version
        self._source = checks_source_sha256()
        self.hits: list[str] = []
        self.stores: list[str] = []
        self.model_info: dict[str, dict[str, Any]] = {}
        """Provenance of models behind reused outcomes (for the key, when they were not loaded this run)."""

    def key_for(self, spec, ctx, asset_names: list[str]) -> str:
        assets = {}
        for name in asset_names:
            p = find_asset(ctx.assets, name)
            assets[name] = fingerprint_path(p) if p is not None else "missing"
        extra: dict[str, Any] = {"writes_artifacts": ctx.evidence_dir is not None}
        for f in dataclasses.fields(ctx):
            value = getattr(ctx, f.name)
            if isinstance(value, Path) and f.name not in ("assets", "evidence_dir"):
                extra[f.name] = fingerprint_path(value)
            elif f.name not in ("assets", "evidence_dir", "models") and isinstance(value, (int, float, str, bool)):
                extra[f.name] = value
        payload = {"format": FORMAT, "version": self.version, "checks_source": self._source,
                   "spec": spec.as_dict(), "assets": assets, "context": extra,
                   "models": {m: self.model_ids.get(m) for m in spec.check.models}}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()

    def _folder(self, key: str) -> Path:
        return self.root / key[:2] / key

    def load(self, key: str, qid: str, artifact_dir: Path | None):
        """The stored outcome (artifacts copied into ``artifact_dir``), or None."""
        folder = self._folder(key)
        meta = folder / "outcome.yaml"
        if not meta.exists():
            return None
        try:
            data = yaml.safe_load(meta.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            log.warning("ignoring unreadable cache entry %s: %s", meta, exc)
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("qid") != qid:
            return None
        ev = _swap_paths(data.get("evidence"), ARTIFACTS_TOKEN, str(artifact_dir) if artifact_dir else "")
        for name, info in (data.get("models") or {}).items():
            self.model_info.setdefault(name, info)
        artifacts = None
        if (folder / "artifacts").is_dir() and artifact_dir is not None:
            shutil.copytree(folder / "artifacts", artifact_dir, dirs_exist_ok=True)
            artifacts = str(artifact_dir)
        evidence = StoredEvidence(qid, ev.get("summary", ""), ev, artifacts) if isinstance(ev, dict) else None
        self.hits.append(qid)
        return QuestionOutcome(qid, data["status"], tuple(data.get("correct") or ()), data.get("level"),
                               data.get("reason"), evidence, data.get("margin"), blocked_by=data.get("blocked_by"),
                               proposed=tuple(data.get("proposed") or ()),
                               open_options=tuple(data.get("open_options") or ()))

    def store(self, key: str, outcome, artifact_dir: Path | None, models: dict[str, dict[str, Any]]) -> None:
        """Store a computed outcome; ``models`` is the provenance of the models it used."""
        if outcome.blocked_by not in CACHEABLE_BLOCKERS:
            return  # blocked by a missing model or asset, or an error: retry next time
        folder = self._folder(key)
        folder.parent.mkdir(parents=True, exist_ok=True)
        # a new, unguessable folder of this run's own beside the entry, renamed into place: an interrupted store
        # leaves no half entry, and two runs storing at once never write into, or delete, each other's
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
        try:
            ev = outcome.evidence.to_dict() if outcome.evidence is not None else None
            if ev is not None:
                ev.pop("artifacts", None)
                if artifact_dir is not None:  # paths into this run's evidence folder follow the artifacts on reuse
                    ev = _swap_paths(ev, str(artifact_dir), ARTIFACTS_TOKEN)
            data = {"format": FORMAT, "qid": outcome.qid, "status": outcome.status, "correct": list(outcome.correct),
                    "level": outcome.level, "reason": outcome.reason, "margin": outcome.margin,
                    "blocked_by": outcome.blocked_by, "proposed": list(outcome.proposed),
                    "open_options": list(outcome.open_options), "evidence": ev, "models": models}
            (tmp / "outcome.yaml").write_text(dump_yaml(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
            if artifact_dir is not None and artifact_dir.is_dir() and any(artifact_dir.iterdir()):
                shutil.copytree(artifact_dir, tmp / "artifacts")
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder)  # this key's older entry (its inputs' fingerprints matched, its code did not)
            try:
                tmp.rename(folder)
            except OSError:  # another run stored this key meanwhile: its entry is as good as this one
                log.info("cache entry %s stored by another run meanwhile", key[:12])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone already when renamed
        self.stores.append(outcome.qid)
