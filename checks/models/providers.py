"""Model providers for ``hw10 key`` besides Mimi: ASR, speaker similarity and CSM.

Each loader returns a :class:`Loaded` handle (the model plus provenance ``info``), and turns a
load failure into :class:`checks.models.hub.ModelUnavailable` so the questions needing that model become
pending with the message while the others still run. Heavy imports happen inside the loaders.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from checks.models.asr import DEFAULT_ASR, AsrError, AsrOptions, load_asr
from checks.models.csm import DEFAULT_CSM, CsmRunOptions, CsmSource, load_csm
from checks.models.hub import ModelUnavailable
from checks.models.speaker import DEFAULT_SPEAKER, SpeakerError, load_speaker_encoder

__all__ = ["DEFAULT_ASR", "DEFAULT_CSM", "DEFAULT_SPEAKER", "Loaded", "ProviderInfo", "load_asr_model",
           "load_csm_model", "load_speaker_model"]


@dataclass(frozen=True)
class ProviderInfo:
    """Provenance of a loaded model, in the shape :func:`checks.pipeline.outcome.build_provenance` reads."""

    description: str
    random_weights: bool = False
    """True only when the provider itself made the weights up (nothing trained in them): keygen skips
    level-model checks on random weights before they measure anything. A local folder reports False,
    even a test fixture (see ``fixture``): its checks run, gate themselves on what they measure, and
    whatever they decide is labelled ``level: fixture`` in the key."""
    fixture: str | None = None
    """What a test-fixture folder says it is (:data:`checks.models.hub.FIXTURE_MARKER`), else ``None``."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Further provenance (id, revision/commit, weight hashes, device, dtype…), merged into :meth:`to_dict`."""

    def to_dict(self) -> dict[str, Any]:
        out = {**dict(self.details), "description": self.description, "random_weights": self.random_weights}
        if self.fixture:
            out["fixture"] = self.fixture
        return out


@dataclass(frozen=True)
class Loaded:
    """A loaded model and its provenance."""

    model: Any
    info: ProviderInfo


def load_asr_model(spec: str, device: str = "auto", beam_size: int = 5) -> Loaded:
    """The ASR backend ``spec`` (see :func:`checks.models.asr.load_asr`) as a :class:`Loaded`; a device other than
    auto/cpu/cuda (e.g. ``cuda:1``) is passed as ``cuda``; a load failure becomes :class:`ModelUnavailable`."""
    try:
        backend = load_asr(spec, AsrOptions(device=device if device in ("auto", "cpu", "cuda") else "cuda",
                                            beam_size=beam_size))
    except AsrError as exc:
        raise ModelUnavailable(f"ASR {spec}: {exc}") from None
    return Loaded(backend, ProviderInfo(backend.describe()))


def load_speaker_model(spec: str, device: str = "auto") -> Loaded:
    """The speaker encoder ``spec`` (see :func:`checks.models.speaker.load_speaker_encoder`) as a :class:`Loaded`;
    devices as in :func:`load_asr_model`; a load failure becomes :class:`ModelUnavailable`."""
    try:
        encoder = load_speaker_encoder(spec, device=device if device in ("auto", "cpu", "cuda") else "cuda")
    except SpeakerError as exc:
        raise ModelUnavailable(f"speaker encoder {spec}: {exc}") from None
    return Loaded(encoder, ProviderInfo(encoder.describe()))


def load_csm_model(source: CsmSource | None = None, options: CsmRunOptions | None = None) -> Loaded:
    """CSM and its processor as a :class:`checks.models.csm.CsmRunner` (``source``: a
    :class:`checks.models.csm.CsmSource`, default ``sesame/csm-1b``; ``options``: a
    :class:`checks.models.csm.CsmRunOptions`)."""
    runner = load_csm(source or CsmSource(DEFAULT_CSM), options)
    return Loaded(runner, ProviderInfo(runner.info.description, random_weights=False, fixture=runner.info.fixture,
                                       details=runner.info.to_dict()))
