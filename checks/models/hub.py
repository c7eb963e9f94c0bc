"""What every model adapter shares: the errors, telling a Hub id from a local folder, validating a
checkpoint folder without torch, the fixture marker, the device, and the messages for a load that fails.

Nothing here imports torch at module level; :func:`resolve_device` and :func:`require_model_libraries`
import it when called.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal, Mapping

from grader.errors import InputError

__all__ = ["FIXTURE_MARKER", "HUB_TIMEOUT_S", "IGNORABLE_MISSING", "ModelMismatch", "ModelUnavailable", "SourceKind",
           "check_checkpoint_folder", "check_loading_info", "fixture_note", "looks_local", "offline_message",
           "require_model_libraries", "resolve_device", "token_source", "write_fixture_marker"]

HUB_TIMEOUT_S = 15.0
"""Seconds a Hub metadata call may take before the Hub counts as unreachable."""
FIXTURE_MARKER = "hw10_fixture.json"
"""File the fixture scripts leave in every checkpoint folder they make (tiny Mimi, tiny CSM and its Mimi):
it says the weights are a test fixture, so keys computed from them say ``level: fixture``."""
IGNORABLE_MISSING = (".initialized",)
"""Buffers no computation reads (a checkpoint lacking them loads fine)."""

SourceKind = Literal["hub", "local", "architecture"]


class ModelUnavailable(InputError):
    """The model cannot be loaded; the message says why and what to do."""


class ModelMismatch(ValueError):
    """The loaded model cannot do what a question asks (fewer code layers, a code or layer out of range)."""


def looks_local(ref: str) -> bool:
    """A model reference that is an existing path or spelt like one (not a Hub ``owner/name`` id)."""
    return Path(ref).expanduser().exists() or ref.startswith((".", "/", "~")) or "\\" in ref or ref.count("/") > 1


def check_checkpoint_folder(folder: Path, model_type: str, label: str, todo: str) -> Path:
    """Validate (without torch) that ``folder`` holds a ``save_pretrained`` config of ``model_type``;
    return the config's path. Every failure is one :class:`ModelUnavailable` ending with ``todo``."""
    if not folder.exists():
        raise ModelUnavailable(f"no such folder; {todo}", file=str(folder))
    if not folder.is_dir():
        raise ModelUnavailable(f"not a folder; {todo}", file=str(folder))
    cfg = folder / "config.json"
    if not cfg.is_file():
        raise ModelUnavailable(f"not a {label} checkpoint: no config.json; {todo}", file=str(folder))
    try:
        found = json.loads(cfg.read_text(encoding="utf-8")).get("model_type")
    except (ValueError, AttributeError, OSError) as exc:
        raise ModelUnavailable(f"not a {label} checkpoint: config.json is not a JSON object ({exc}); {todo}",
                               file=str(cfg)) from None
    if found != model_type:
        raise ModelUnavailable(f"not a {label} checkpoint: model_type is {found!r}, expected {model_type!r}; {todo}",
                               file=str(cfg))
    return cfg


def fixture_note(folder: Path) -> str | None:
    """What ``folder``'s :data:`FIXTURE_MARKER` says it is (``None``: no marker, a real checkpoint)."""
    marker = folder / FIXTURE_MARKER
    if not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "hw10 test fixture (unreadable marker)"
    return str(data.get("what") or "hw10 test fixture") if isinstance(data, dict) else "hw10 test fixture"


def write_fixture_marker(folder: Path, what: str, **details: Any) -> Path:
    """Leave :data:`FIXTURE_MARKER` in a checkpoint folder a fixture script made (``what``: one line saying
    what the weights are; ``details``: JSON values such as the script and seed). Deterministic bytes."""
    marker = Path(folder) / FIXTURE_MARKER
    marker.write_text(json.dumps({"what": what, **details}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return marker


def require_model_libraries() -> None:
    """Raise :class:`ModelUnavailable` saying what to install when torch or transformers is missing."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailable(f"the model checks need torch and transformers ({exc}); install torch first, then "
                               "pip install 'hw10[models]'") from None


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu``; a CUDA device torch cannot see is an InputError."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(f"--device {device}: torch {torch.__version__} sees no CUDA GPU here; "
                             "use --device cpu (or auto)")
        return device
    raise InputError("choose auto, cpu or cuda", option="device", value=device)


def check_loading_info(ref: str, info: Mapping[str, Any] | None, label: str = "") -> None:
    """Refuse a checkpoint that lacks weights: transformers would fill them randomly (codebooks with zeros).
    ``label`` names the model in the message (``"CSM "``)."""
    missing = sorted(k for k in ((info or {}).get("missing_keys") or []) if not k.endswith(IGNORABLE_MISSING))
    if missing:
        shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
        raise ModelUnavailable(f"the {label}checkpoint lacks {len(missing)} weights ({shown}): it is incomplete or "
                               "was saved by an incompatible transformers version; re-download it", file=ref)


def offline_message(ref: str, why: str, flag: str, colab: str = "", tail: str = "") -> str:
    """The message for a Hub that cannot be reached and a model not in the local cache: where to run instead,
    or how to download it once elsewhere and pass it with ``--{flag} {flag}`` (``colab``: what a Colab run
    needs, ``tail``: one more sentence)."""
    from huggingface_hub import constants

    return (f"cannot load {ref}: the Hugging Face Hub is unreachable from this machine ({why}) and the model is not "
            f"in the local cache ({constants.HF_HUB_CACHE}). Either run `hw10 key` on a machine with internet "
            f"(e.g. Colab{colab}), or download it once elsewhere (`hf download {ref} --local-dir {flag}`) and pass "
            f"--{flag} {flag}{tail}")


def token_source() -> str | None:
    """Where huggingface_hub would take a token from; never the token itself."""
    if os.environ.get("HF_TOKEN"):
        return "HF_TOKEN"
    try:
        from huggingface_hub import get_token
    except ImportError:  # pragma: no cover
        return None
    return "saved login" if get_token() else None
