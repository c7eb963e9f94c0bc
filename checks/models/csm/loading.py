"""Loading CSM and its processor (``CsmForConditionalGeneration`` + ``AutoProcessor`` through transformers) from a
:class:`~checks.models.csm.source.CsmSource`, as a :class:`~checks.models.csm.generation.CsmRunner`.

A Hub id is asked first whether this machine's token may read it (gated ``sesame/csm-1b``); a local folder is checked
on disk for the model *and* its processor (:func:`check_csm_folder`) before anything loads. Anything that keeps the
model from loading (no token, a refused token, terms not accepted, an unreachable Hub, a folder without a processor,
missing weights) is one :class:`checks.models.hub.ModelUnavailable` whose message says what to do. On a CPU the
loaded model's linear layers switch to oneDNN (:func:`checks.models.csm.speedups.cpu_kernels`).

torch/transformers/huggingface_hub are imported inside functions only.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Sequence

from checks.assets import file_sha256 as _sha256
from checks.models.csm.generation import CsmRunner
from checks.models.csm.source import DEFAULT_CSM, CsmInfo, CsmRunOptions, CsmSource, dtype_policy, resolve_dtype
from checks.models.csm.speedups import cpu_kernels
from checks.models.hub import (
    HUB_TIMEOUT_S,
    ModelUnavailable,
    check_checkpoint_folder,
    check_loading_info,
    fixture_note,
    offline_message,
    require_model_libraries,
    resolve_device,
    token_source,
)
from grader.errors import InputError

log = logging.getLogger(__name__)

WEIGHT_PATTERNS = ("model.safetensors", "model-*.safetensors", "pytorch_model.bin", "pytorch_model-*.bin")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")
FEATURE_EXTRACTOR_FILES = ("preprocessor_config.json", "processor_config.json")
CHAT_TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")


def _files_matching(folder: Path, patterns: Sequence[str]) -> list[Path]:
    return sorted({p for pat in patterns for p in folder.glob(pat) if p.is_file()})


def _json_has_key(path: Path, key: str) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(data.get(key))


def check_csm_folder(folder: Path) -> list[Path]:
    """Validate (without torch) that ``folder`` holds a CSM checkpoint and its processor; return the weight files."""
    todo = ("pass a folder holding both `model.save_pretrained(DIR)` and `processor.save_pretrained(DIR)` "
            "(or `hf download sesame/csm-1b --local-dir DIR`), or leave --csm out to load sesame/csm-1b from the Hub")
    check_checkpoint_folder(folder, "csm", "CSM", todo)
    weights = _files_matching(folder, WEIGHT_PATTERNS)
    if not weights:
        raise ModelUnavailable(f"CSM config but no weights (expected model.safetensors or its shards); {todo}",
                               file=str(folder))
    missing = []
    if not _files_matching(folder, TOKENIZER_FILES):
        missing.append("a tokenizer (tokenizer.json)")
    if not _files_matching(folder, FEATURE_EXTRACTOR_FILES):
        missing.append("the audio feature extractor settings (processor_config.json or preprocessor_config.json)")
    has_template = bool(_files_matching(folder, CHAT_TEMPLATE_FILES)) or any(
        _json_has_key(folder / name, "chat_template") for name in ("processor_config.json", "tokenizer_config.json"))
    if not has_template:
        missing.append("the chat template (chat_template.jinja)")
    if missing:
        raise ModelUnavailable("the folder holds CSM weights but no processor: missing " + "; ".join(missing)
                               + f" — save the processor next to the model (`processor.save_pretrained(DIR)`); {todo}",
                               file=str(folder))
    return weights


# ----------------------------------------------------------------------------- loading


def _gated_message(ref: str, why: str) -> str:
    return (f"cannot load {ref}: {why}. {ref} is gated: accept its terms on https://huggingface.co/{ref} with your "
            "account, create a read token (Settings → Access Tokens) and set HF_TOKEN=<token> (or run "
            "`hf auth login`); or download it once elsewhere (`hf download "
            f"{ref} --local-dir csm`) and pass --csm csm")


def _offline_message(ref: str, why: str) -> str:
    return offline_message(ref, why, "csm", colab=f", with HF_TOKEN set: {ref} is gated")


def _hub_access(ref: str, rev: str | None) -> tuple[str | None, str | None]:
    """``(commit, None)`` when the Hub lets this token read ``ref``; ``(None, why)`` when it is unreachable.

    Raises :class:`ModelUnavailable` for every answer that is a refusal (no token, a refused token,
    terms not accepted, no such model or revision)."""
    from huggingface_hub import HfApi
    from huggingface_hub import errors as hf_errors

    source = token_source()
    token_text = {"HF_TOKEN": "the token in HF_TOKEN", "saved login": "the token of your saved `hf auth login`"}
    api = HfApi()
    try:
        commit = api.model_info(ref, revision=rev, timeout=HUB_TIMEOUT_S).sha
        api.auth_check(ref)
        return commit, None
    except hf_errors.GatedRepoError:
        why = ("no Hugging Face token was found (HF_TOKEN is unset and there is no saved login)" if source is None
               else f"the Hub says {token_text[source]} has no access to it (its terms are not accepted for that "
                    "account, or the token lacks read access to gated repositories)")
        raise ModelUnavailable(_gated_message(ref, why)) from None
    except hf_errors.RevisionNotFoundError:
        raise ModelUnavailable(f"revision {rev!r} of {ref} does not exist on the Hub") from None
    except hf_errors.RepositoryNotFoundError:
        why = ("the Hub says there is no such model, or that it needs a token and none was found"
               if source is None else f"the Hub says there is no such model visible to {token_text[source]}")
        raise ModelUnavailable(_gated_message(ref, why) if ref == DEFAULT_CSM else
                               f"cannot load {ref}: {why} (check the id; for a private or gated model set HF_TOKEN); "
                               "a local folder must exist") from None
    except hf_errors.HFValidationError:
        raise ModelUnavailable(f"--csm {ref!r} is neither an existing folder nor a valid Hub id "
                               "(namespace/name)") from None
    except hf_errors.HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            who = token_text.get(source or "", "the request (no token)")
            detail = (getattr(exc, "server_message", None) or "").strip() or f"HTTP {status}"
            raise ModelUnavailable(_gated_message(ref, f"the Hub refused {who} (HTTP {status}: {detail})")) from None
        return None, f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    except Exception as exc:  # connection refused, DNS failure, timeout, offline mode
        return None, f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _from_pretrained(where: str, dtype: str, **kw):
    import torch
    from transformers import AutoProcessor, CsmForConditionalGeneration

    model, info = CsmForConditionalGeneration.from_pretrained(where, dtype=getattr(torch, dtype),
                                                              output_loading_info=True, **kw)
    processor = AutoProcessor.from_pretrained(where, **kw)
    return model, processor, info


def _check_processor(ref: str, processor) -> None:
    if getattr(processor, "chat_template", None) is None:
        raise ModelUnavailable("the processor has no chat template (chat_template.jinja): save it with "
                               "`processor.save_pretrained(DIR)`", file=ref)
    fe = getattr(processor, "feature_extractor", None)
    if fe is None or getattr(fe, "sampling_rate", None) is None:
        raise ModelUnavailable("the processor has no audio feature extractor", file=ref)


def load_csm(src: CsmSource, options: CsmRunOptions | None = None) -> CsmRunner:
    """Load CSM and its processor from ``src``; raises :class:`ModelUnavailable` (InputError for a bad device/dtype)."""
    require_model_libraries()
    device = resolve_device(src.device)
    dtype = resolve_dtype(src.dtype, device)
    kind = src.kind
    if kind != "hub" and src.revision:
        raise InputError(f"applies to a Hub id, not to {src.ref!r}", option="csm_revision")
    commit = hashes = token = fixture = None
    if kind == "local":
        folder = Path(src.ref).expanduser()
        weights = check_csm_folder(folder)
        try:
            model, processor, info = _from_pretrained(str(folder), dtype)
        except InputError:
            raise
        except Exception as exc:  # OSError, ValueError (size mismatch), safetensors and tokenizer errors…
            raise ModelUnavailable(f"cannot load as CSM: {type(exc).__name__}: {' '.join(str(exc).split())}",
                                   file=str(folder)) from None
        hashes = {p.name: _sha256(p) for p in weights}
        fixture = fixture_note(folder)
        desc = f"local folder {src.ref} (weights sha256 {next(iter(hashes.values()))[:12]}…)"
        if fixture:
            desc += f" — {fixture}"
    else:
        token = token_source()
        commit, unreachable = _hub_access(src.ref, src.revision)
        offline = unreachable is not None
        if offline:
            log.info("Hub unreachable (%s); trying the local cache", unreachable)
        try:
            model, processor, info = _from_pretrained(src.ref, dtype, revision=commit or src.revision,
                                                      local_files_only=offline)
        except InputError:
            raise
        except Exception as exc:
            if offline:
                raise ModelUnavailable(_offline_message(src.ref, unreachable)) from None
            raise ModelUnavailable(f"cannot load {src.ref} (revision {commit or src.revision or 'main'}) as CSM: "
                                   f"{type(exc).__name__}: {' '.join(str(exc).split())}") from None
        commit = commit or getattr(model.config, "_commit_hash", None)
        desc = f"{src.ref}@{(commit or src.revision or 'main')[:12]}" + (" (local cache, offline)" if offline else "")
    check_loading_info(src.ref, info, "CSM ")
    _check_processor(src.ref, processor)
    model = model.to(device).eval()
    info_out = CsmInfo(kind=kind, ref=src.ref, revision=src.revision, commit=commit, weights_sha256=hashes,
                       device=device, dtype=dtype, token=token, fixture=fixture, description=desc,
                       dtype_policy=dtype_policy(src.dtype, device, dtype), linear_kernels=cpu_kernels(model))
    log.info("loaded CSM: %s on %s (%s)", desc, device, dtype)
    return CsmRunner(model, processor, info_out, options or CsmRunOptions())
