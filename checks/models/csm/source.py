"""Where CSM comes from and how it runs, without torch: :class:`CsmSource` (a Hub id or a local folder, revision,
device, dtype), :class:`CsmRunOptions` (the command line's overrides of the questions' generation settings),
:class:`CsmInfo` (the provenance of a loaded CSM) and the dtype policy (:func:`resolve_dtype`, :func:`dtype_policy`).

Two sources: a Hub id (default ``sesame/csm-1b``, gated: the token comes from ``HF_TOKEN`` or a saved
``hf auth login``, optionally pinned to a revision), or a local folder holding the model *and* its processor
(``save_pretrained`` of both, or ``hf download``). Loading them is :mod:`checks.models.csm.loading`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from checks.models.hub import looks_local
from checks.models.numerics import bf16_supported
from grader.errors import InputError

DEFAULT_CSM = "sesame/csm-1b"
"""Gated: needs HF_TOKEN (or `hf auth login`) after accepting the model's terms on the Hub."""
CSM_DTYPES = ("auto", "float32", "bfloat16", "float16")
"""``auto``: bfloat16 on a GPU, float32 on the CPU."""

SourceKind = Literal["hub", "local"]


@dataclass(frozen=True)
class CsmSource:
    """Where the CSM weights come from and how to run them."""

    ref: str = DEFAULT_CSM
    """A Hub id or a local folder (model + processor)."""
    revision: str | None = None
    """Hub revision (branch, tag or commit); only for a Hub id."""
    device: str = "auto"
    """``auto`` (cuda when available), ``cpu``, ``cuda`` or ``cuda:N``."""
    dtype: str = "auto"
    """One of :data:`CSM_DTYPES`; ``auto`` = bfloat16 on a GPU, float32 on the CPU."""

    @property
    def kind(self) -> SourceKind:
        return csm_source_kind(self.ref)


@dataclass(frozen=True)
class CsmRunOptions:
    """Command-line overrides of the CSM questions' generation settings (``None``: the spec's value)."""

    samples: int | None = None
    """Generations per question that samples several (q11's ``thresholds.samples``)."""
    max_new_tokens: int | None = None
    """Most frames per generation (the specs' ``thresholds.max_new_tokens``; 125 frames = 10 s)."""

    def __post_init__(self) -> None:
        for name in ("samples", "max_new_tokens"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"CSM {name} must be at least 1, not {value}")


@dataclass(frozen=True)
class CsmInfo:
    """Provenance of a loaded CSM (goes into the key)."""

    kind: SourceKind
    """``hub`` or ``local``."""
    ref: str
    """Hub id or folder, as given."""
    revision: str | None
    """Requested Hub revision."""
    commit: str | None
    """Hub commit the weights came from (when known)."""
    weights_sha256: dict[str, str] | None
    """sha256 of each local weight file."""
    device: str
    """The device the model runs on (``auto`` resolved)."""
    dtype: str
    """The dtype the model runs in (``auto`` resolved)."""
    token: str | None
    """Where the Hub token came from (``HF_TOKEN``, ``saved login``) or ``None``; never the token."""
    fixture: str | None
    """What the folder's :data:`checks.models.mimi.FIXTURE_MARKER` says (the hw10 tiny test model), else ``None``."""
    description: str
    """One line for the CLI and the key."""
    dtype_policy: str | None = None
    """Why it runs in ``dtype`` (:func:`dtype_policy`)."""
    linear_kernels: str | None = None
    """Which kernel computes its linear layers on a CPU (:func:`checks.models.csm.speedups.cpu_kernels`); ``None``
    on a GPU."""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}



def csm_source_kind(ref: str) -> SourceKind:
    """``local`` for an existing path or something spelt like a path; else ``hub``."""
    return "local" if looks_local(ref) else "hub"


def resolve_dtype(name: str, device: str, bf16_ok: bool | None = None) -> str:
    """The dtype CSM runs in for ``--csm-dtype name`` (an :class:`InputError` for a name not in ``CSM_DTYPES``).

    ``auto``: bfloat16 on a GPU that supports it natively (``bf16_ok``; default: ask torch), else float32 (a
    Colab T4 has no native bfloat16, and float16 risks overflow in a model trained in bfloat16); an explicit
    ``bfloat16`` on a GPU without it is refused."""
    if name not in CSM_DTYPES:
        raise InputError(f"choose one of {', '.join(CSM_DTYPES)}", option="csm_dtype", value=name)
    if name not in ("auto", "bfloat16") or not device.startswith("cuda"):
        return "float32" if name == "auto" else name
    supported = bf16_supported(device) if bf16_ok is None else bf16_ok
    if name == "bfloat16" and not supported:
        raise InputError(f"--csm-dtype bfloat16: this GPU ({device}) has no native bfloat16 (a Colab T4, say); "
                         "leave --csm-dtype at auto (float32 here) or pass float16")
    return "bfloat16" if supported else "float32"


def dtype_policy(name: str, device: str, dtype: str) -> str:
    """Why CSM runs in ``dtype`` (for the provenance)."""
    if name != "auto":
        return f"--csm-dtype {name}"
    if dtype == "bfloat16":
        return "auto: bfloat16, native on this GPU (what csm-1b was trained in)"
    if device.startswith("cuda"):
        return "auto: float32, this GPU has no native bfloat16"
    return "auto: float32 on the CPU"
