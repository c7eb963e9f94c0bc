"""The TA's assets folder (the Colab's files): which file each question needs, and finding them.

The manifest comes from the question specs (``check.assets``), so it cannot drift from them; a few
files go by two names in the slides (:data:`ALIASES`).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

from grader.outfolder import file_sha256

ALIASES: dict[str, tuple[str, ...]] = {
    "audio_codes_shuffled.pt": ("audio_tokens_shuffled.pt",),
}
"""Other names a file goes by (the slides call q09's file both ways)."""


class AssetMissing(LookupError):
    """A file a question needs is not in the assets folder (or no folder was given)."""


def manifest(specs: Iterable) -> dict[str, list[str]]:
    """``{file name: [question ids that need it]}`` from the specs' ``check.assets``."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        for name in spec.check.assets:
            out.setdefault(name, []).append(spec.id)
    return dict(sorted(out.items()))


def find_asset(folder: Path | None, name: str) -> Path | None:
    """The file ``name`` (or one of its aliases) in ``folder``; ``None`` when absent."""
    if folder is None:
        return None
    for candidate in (name, *ALIASES.get(name, ())):
        p = Path(folder) / candidate
        if p.exists():
            return p
    return None


def require_asset(folder: Path | None, name: str) -> Path:
    """Like :func:`find_asset` but raises :class:`AssetMissing` with a message saying what to do."""
    p = find_asset(folder, name)
    if p is not None:
        return p
    aka = ALIASES.get(name, ())
    also = f" (or {', '.join(aka)})" if aka else ""
    if folder is None:
        raise AssetMissing(f"needs {name}{also}: pass --assets DIR with the Colab's files")
    raise AssetMissing(f"{name}{also} not found in {folder}")


def fingerprint_path(path: Path) -> str:
    """A file's sha256; a folder's listing (relative path and size of every file)."""
    if path.is_file():
        return file_sha256(path)
    if path.is_dir():
        listing = sorted((str(p.relative_to(path)), p.stat().st_size) for p in path.rglob("*") if p.is_file())
        return hashlib.sha256(json.dumps(listing).encode()).hexdigest()
    return "missing"
