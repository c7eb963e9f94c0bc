"""Model providers for ``hw10 key`` besides Mimi: ASR, speaker similarity and CSM.

Each loader returns a :class:`Loaded` handle (the model plus provenance ``info``), and turns a
load failure into :class:`checks.mimi.ModelUnavailable` so the questions needing that model become
pending with the message while the others still run. Heavy imports happen inside the loaders.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .mimi import ModelUnavailable

DEFAULT_ASR = "openai-whisper:turbo"
"""What the homework used (openai-whisper); offline here: ``faster-whisper:tiny.en-bundled``."""
DEFAULT_SPEAKER = "resemblyzer"
DEFAULT_CSM = "sesame/csm-1b"


@dataclass(frozen=True)
class ProviderInfo:
    """Provenance of a loaded model, in the shape :func:`checks.keygen.build_provenance` reads."""

    description: str
    random_weights: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "random_weights": self.random_weights}


@dataclass(frozen=True)
class Loaded:
    """A loaded model and its provenance."""

    model: Any
    info: ProviderInfo


def load_asr_model(spec: str, device: str = "auto", beam_size: int = 5) -> Loaded:
    from .asr import AsrError, AsrOptions, load_asr

    try:
        backend = load_asr(spec, AsrOptions(device=device if device in ("auto", "cpu", "cuda") else "cuda",
                                            beam_size=beam_size))
    except AsrError as exc:
        raise ModelUnavailable(f"ASR {spec}: {exc}") from None
    return Loaded(backend, ProviderInfo(backend.describe()))


def load_speaker_model(spec: str, device: str = "auto") -> Loaded:
    from .speaker import SpeakerError, load_speaker_encoder

    try:
        encoder = load_speaker_encoder(spec, device=device if device in ("auto", "cpu", "cuda") else "cuda")
    except SpeakerError as exc:
        raise ModelUnavailable(f"speaker encoder {spec}: {exc}") from None
    return Loaded(encoder, ProviderInfo(encoder.describe()))
