"""Sesame's CSM through transformers (``CsmForConditionalGeneration`` + ``AutoProcessor``), for q11/q12.

By what it holds:

* :mod:`~checks.models.csm.source`: where it comes from and how it runs (:class:`CsmSource`, :class:`CsmRunOptions`,
  :class:`CsmInfo`, the dtype policy); no torch, what the command line's options read.
* :mod:`~checks.models.csm.loading`: the checkpoint and its processor from the Hub (gated, asked first) or a local
  folder (checked on disk first): :func:`load_csm`.
* :mod:`~checks.models.csm.generation`: :class:`CsmRunner`, the Colab's seeded ``generate(..., output_audio=True)``
  for one reply or a batch, the end frame cut, CSM's own audio.
* :mod:`~checks.models.csm.speedups`: the CPU's oneDNN linear layers and a batch's shared prompt (same results,
  faster).

Everything is re-exported here, so ``from checks.models.csm import …`` names anything the single module of before
did. torch/transformers/huggingface_hub are imported inside functions only: importing this package is cheap.
"""
from __future__ import annotations

from checks.models.csm.generation import (
    CsmGenerationError,
    CsmRunner,
    Generation,
    Turn,
    chat_messages,
    end_frame_index,
)
from checks.models.csm.loading import (
    CHAT_TEMPLATE_FILES,
    FEATURE_EXTRACTOR_FILES,
    TOKENIZER_FILES,
    WEIGHT_PATTERNS,
    check_csm_folder,
    load_csm,
)
from checks.models.csm.source import (
    CSM_DTYPES,
    DEFAULT_CSM,
    CsmInfo,
    CsmRunOptions,
    CsmSource,
    SourceKind,
    csm_source_kind,
    dtype_policy,
    resolve_dtype,
)
from checks.models.csm.speedups import cpu_kernels

__all__ = ["CHAT_TEMPLATE_FILES", "CSM_DTYPES", "DEFAULT_CSM", "FEATURE_EXTRACTOR_FILES", "TOKENIZER_FILES",
           "WEIGHT_PATTERNS", "CsmGenerationError", "CsmInfo", "CsmRunOptions", "CsmRunner", "CsmSource", "Generation",
           "SourceKind", "Turn", "chat_messages", "check_csm_folder", "cpu_kernels", "csm_source_kind",
           "dtype_policy", "end_frame_index", "load_csm", "resolve_dtype"]
