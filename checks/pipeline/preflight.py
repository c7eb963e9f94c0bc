"""Every cheap check of a key run's options, before anything is printed or any model loads (exit 2 on a bad one):
the question selection, the assets folder and its manifest, a local Mimi folder, ``--mimi-revision``, the device."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from checks.assets import find_asset, manifest
from checks.models.hub import resolve_device
from checks.models.mimi import check_local_checkpoint
from checks.pipeline.options import KeyRunOptions
from checks.pipeline.registry import load_check, optional_assets
from checks.pipeline.selection import parse_questions
from grader.errors import InputError
from grader.spec import QuestionBank


def check_assets_dir(path: Path | None) -> Path | None:
    """``--assets`` checked: ``None`` stays ``None``; a path that does not exist or is not a folder is an
    :class:`InputError`; else the path itself."""
    if path is None:
        return None
    if not path.exists():
        raise InputError("assets folder not found", file=str(path))
    if not path.is_dir():
        raise InputError("must be a folder holding the Colab's files", file=str(path), option="assets")
    return path


def missing_assets(bank: QuestionBank, selected: list[str], assets: Path | None,
                   emovdb: Path | None = None) -> dict[str, list[str]]:
    """The assets manifest checked before any model loads: each missing file with the questions needing it.

    Optional assets (a check that can do without them, e.g. q02's 8sAudio.wav) are not listed."""
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
    selected = parse_questions(opts.select, bank.ids)
    assets = check_assets_dir(Path(opts.assets) if opts.assets else None)
    src = opts.mimi_source
    if src.kind == "local":
        check_local_checkpoint(Path(opts.mimi).expanduser())
    if src.kind != "hub" and opts.mimi_revision:
        raise InputError(f"applies to a Hub id, not to {opts.mimi!r}", option="mimi_revision")
    if not (opts.device in ("auto", "cpu", "cuda") or opts.device.startswith("cuda:")):
        raise InputError("choose auto, cpu or cuda", option="device", value=opts.device)
    if opts.device != "cpu":
        try:
            import torch  # noqa: F401  (without torch every model question becomes pending, said once)
        except ImportError:
            pass
        else:
            resolve_device(opts.device)
    return CheckedOptions(selected, assets, missing_assets(bank, selected, assets,
                                                           Path(opts.emovdb) if opts.emovdb else None))
