"""What makes CSM fast enough on a CPU, without changing what it computes: its float32 linear layers through oneDNN
(:func:`cpu_kernels`) and a batch of replies that runs its prompt once (:func:`shared_prompt`).

torch is imported inside functions only.
"""
from __future__ import annotations

import logging

from checks.models.cpu_linear import use_onednn_linears

log = logging.getLogger(__name__)


def cpu_kernels(model) -> str | None:
    """On the CPU, CSM's backbone and depth decoder compute their float32 linear layers with oneDNN
    (:mod:`checks.models.cpu_linear`: a frame of a batch of 5 replies took 1.58 s instead of 3.66 s with csm-1b's
    dimensions); its codec keeps PyTorch's default kernels, exactly the standalone Mimi's path (q12 compares the
    two). Returns the provenance line; ``None`` on a GPU (nothing changed)."""
    if next(model.parameters()).device.type != "cpu":
        return None
    kernels = use_onednn_linears(model, skip=[model.codec_model])
    log.info("CSM: %s", kernels.describe())
    return kernels.describe()


def _cache_of(out):
    """The key/value cache a CSM forward or ``generate`` returned (its attribute's name depends on transformers'
    version), or ``None``."""
    return getattr(out, "cache", None) or getattr(out, "past_key_values", None)


def cache_length(out) -> int | None:
    """Positions in the key/value cache ``generate`` returned (``None`` when it returned none)."""
    cache = _cache_of(out)
    return int(cache.get_seq_length()) if cache is not None and hasattr(cache, "get_seq_length") else None


def shared_prompt(model, inputs, n: int) -> tuple[dict, int] | None:
    """``generate`` arguments for ``n`` replies of ``model`` that share one run of the prompt ``inputs``, and the
    prompt's length.

    The prompt but its last token goes through the model once (batch 1, its audio Mimi-encoded once) and its
    key/value cache is repeated ``n`` times; ``generate`` then gets only the last token (``n`` times) with the
    whole attention mask, and samples from there exactly as from the full prompt (the same function: the cache
    is what the prefill would have computed, row for row). Saves ``n - 1`` prefills and encodings (for q11's
    batch of 5 with csm-1b's dimensions on a 2-core CPU, 2 frames took 6.9 s instead of 22 s). ``None`` where
    that cannot be relied on: a transformers whose ``prepare_inputs_for_generation`` has no
    ``next_sequence_length`` (older versions place a pre-filled cache otherwise), a prompt that is not one
    conversation, or one ending in an audio token. The caller also checks the returned cache's length
    (:func:`cache_length`) and falls back to the repeated prompt if it is off."""
    import inspect

    import torch

    ids, mask = inputs.get("input_ids"), inputs.get("attention_mask")
    forward = inspect.signature(model.forward).parameters
    if ("next_sequence_length" not in inspect.signature(model.prepare_inputs_for_generation).parameters
            or not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.shape[0] != 1 or ids.shape[1] < 2
            or mask is None or int(ids[0, -1]) in (model.config.audio_token_id, model.config.audio_eos_token_id)):
        return None
    cache_arg = "cache" if "cache" in forward else "past_key_values"
    prefix = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
    with torch.no_grad():
        out = model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], use_cache=True, **prefix)
    cache = _cache_of(out)
    if cache is None or not hasattr(cache, "batch_repeat_interleave") or cache.get_seq_length() != ids.shape[1] - 1:
        return None
    cache.batch_repeat_interleave(n)
    kwargs = {"input_ids": ids[:, -1:].repeat(n, 1), "attention_mask": mask.repeat(n, 1), cache_arg: cache}
    return kwargs, int(ids.shape[1])
