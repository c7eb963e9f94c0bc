"""Speaker similarity behind one small interface: batched embeddings, cosine similarity, silence refused.

Encoders, chosen by a spec string (``--speaker``)::

    resemblyzer           the default: Resemblyzer's GE2E d-vector (256-d; :mod:`checks.models.ge2e`, its code
                          in this tree, its weights from an installed Resemblyzer, hw10's cache, or PyPI once)
    wavlm                 = wavlm:microsoft/wavlm-base-plus-sv (transformers ``WavLMForXVector``,
                          512-d x-vector; downloads on the TA's machine)
    wavlm:PATH_OR_ID      a local folder or Hub id of a WavLM x-vector model and its feature extractor

Every clip is checked before it is embedded (:class:`SpeechGate`): a silent, near-silent or too
short clip raises :class:`SpeakerError` naming it, because encoders happily return a vector for
silence (Resemblyzer does, and its volume normalisation turns all-zero input into NaN) and a
similarity against such a vector means nothing. Embeddings are L2-normalised, so cosine similarity
is a dot product. Audio goes in at 16 kHz, resampled with :func:`checks.audio.resample` (soxr VHQ).
torch, librosa, webrtcvad and transformers are imported lazily: importing this module is cheap.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence, Union, runtime_checkable

from checks.audio import RESAMPLER, load_audio, resample, rms_dbfs, samples_problem
from checks.models import ge2e

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

log = logging.getLogger(__name__)

DEFAULT_SPEAKER = "resemblyzer"
"""The default encoder: bundled weights, fully offline."""

SPEAKER_RATE = 16_000
"""Input rate of both encoders (Hz)."""
DEFAULT_WAVLM = "microsoft/wavlm-base-plus-sv"
ENCODERS = ("resemblyzer", "wavlm")

ClipInput = Union["np.ndarray", str, Path]
"""A 1-D float array of samples (at the ``rate`` given to ``embed``) or an audio file path."""


class SpeakerError(ValueError):
    """A speaker encoder that cannot be used or a clip it must not embed; the message names it."""


@dataclass(frozen=True)
class SpeechGate:
    """When a clip counts as speech worth embedding. Clips failing either test are refused."""

    min_rms_dbfs: float = -50.0
    """Whole-clip RMS level (dB re full scale) below which the clip is silence. Speech sits around
    -30…-15 dBFS; digital silence is -inf, dither and hum lie below -60."""
    min_voiced_seconds: float = 1.0
    """Least voiced audio (after the encoder's voice-activity trimming, where it has one; else the
    clip's length) needed for a stable embedding. Resemblyzer's window is 1.6 s."""


@runtime_checkable
class SpeakerEncoder(Protocol):
    """A loaded speaker encoder. Load once (:func:`load_speaker_encoder`), pass it around."""

    spec: str
    gate: SpeechGate

    def embed(self, clips: Sequence[ClipInput], rate: int = SPEAKER_RATE) -> "np.ndarray":
        """``[len(clips), D]`` float32, each row L2-normalised; refuses non-speech clips."""
        ...

    def describe(self) -> str:
        """One line for provenance: encoder, version, weights (path/id and hash), device."""
        ...


# ----------------------------------------------------------------------------- pure helpers


def cosine(a: "np.ndarray", b: "np.ndarray") -> float:
    """Cosine similarity of two vectors (1 = same direction). Refuses a zero vector."""
    import numpy as np

    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise SpeakerError(f"cosine: vectors differ in length ({a.size} vs {b.size})")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0 or not (np.isfinite(na) and np.isfinite(nb)):
        raise SpeakerError("cosine: a zero or non-finite vector has no direction")
    return float(a @ b / (na * nb))


def similarity_matrix(a: "np.ndarray", b: "np.ndarray") -> "np.ndarray":
    """``m[i, j]`` = cosine similarity of row ``i`` of ``a`` and row ``j`` of ``b`` (``[N, D]``, ``[M, D]``)."""
    import numpy as np

    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b, dtype=np.float64))
    if a.shape[1] != b.shape[1]:
        raise SpeakerError(f"similarity_matrix: embedding sizes differ ({a.shape[1]} vs {b.shape[1]})")
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    if (na == 0).any() or (nb == 0).any():
        raise SpeakerError("similarity_matrix: a zero vector has no direction")
    return (a / na) @ (b / nb).T


def prepare_clips(clips: Sequence[ClipInput], rate: int = SPEAKER_RATE) -> list[tuple[str, "np.ndarray"]]:
    """``(label, 16 kHz float32 samples)`` per clip; label = the file path or ``clip i`` (for messages)."""
    import numpy as np

    if isinstance(clips, (str, Path)) or getattr(clips, "ndim", None) is not None:
        raise SpeakerError("embed takes a list of clips (arrays or paths), not a single clip")
    if rate <= 0:
        raise SpeakerError(f"sampling rate must be positive, not {rate}")
    out = []
    for i, clip in enumerate(clips):
        if isinstance(clip, (str, Path)):
            out.append((str(clip), load_audio(clip, SPEAKER_RATE).samples))
            continue
        label = f"clip {i}"
        x = np.asarray(clip)
        problem = samples_problem(x, label)
        if problem:
            raise SpeakerError(problem)
        out.append((label, resample(x, rate, SPEAKER_RATE)))
    return out


def check_level(label: str, x: "np.ndarray", gate: SpeechGate) -> None:
    """Refuse a silent or near-silent clip (RMS below ``gate.min_rms_dbfs``)."""
    level = rms_dbfs(x)
    if level < gate.min_rms_dbfs:
        shown = "-inf (digital silence)" if level == float("-inf") else f"{level:.1f}"
        raise SpeakerError(
            f"{label}: silent or nearly so (RMS {shown} dBFS, below {gate.min_rms_dbfs} dBFS); "
            "a speaker embedding of silence means nothing"
        )


def check_duration(label: str, voiced_samples: int, gate: SpeechGate, what: str = "voiced audio") -> None:
    """Refuse a clip with less than ``gate.min_voiced_seconds`` of (voiced) audio."""
    seconds = voiced_samples / SPEAKER_RATE
    if seconds < gate.min_voiced_seconds:
        raise SpeakerError(
            f"{label}: only {seconds:.2f} s of {what} (need at least {gate.min_voiced_seconds} s "
            "for a speaker embedding)"
        )


def load_speaker_encoder(spec: str = "resemblyzer", gate: SpeechGate | None = None,
                         device: str = "auto") -> SpeakerEncoder:
    """Load the encoder a spec names (``resemblyzer``, ``wavlm`` or ``wavlm:PATH_OR_ID``)."""
    name, _, model = str(spec).partition(":")
    name, model = name.strip(), model.strip()
    g = gate or SpeechGate()
    if name == "resemblyzer" and not model:
        return ResemblyzerEncoder(g, device)
    if name == "wavlm":
        return WavLMEncoder(model or DEFAULT_WAVLM, g, device)
    raise SpeakerError(
        f"speaker encoder spec {spec!r} not understood; use resemblyzer, wavlm (= wavlm:{DEFAULT_WAVLM}) "
        "or wavlm:PATH_OR_ID"
    )


def _device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise SpeakerError(f"device must be auto, cpu or cuda, not {device!r}")
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# ----------------------------------------------------------------------------- resemblyzer


class ResemblyzerEncoder:
    """Resemblyzer's voice encoder (:mod:`checks.models.ge2e`: its network, preprocessing and weights, without its
    package); all clips' 1.6 s partials go through the LSTM as one batch.

    Per clip this is exactly Resemblyzer's ``VoiceEncoder.embed_utterance(preprocess_wav(x))`` (volume
    normalisation, VAD trimming of long silences, partials at rate 1.3 / coverage 0.75, mean, L2
    norm), with the resampling done by soxr beforehand instead of librosa."""

    spec = "resemblyzer"
    rate = 1.3
    """Partial utterances per second (Resemblyzer's default)."""
    min_coverage = 0.75
    """Resemblyzer's default: a last partial needs 75 % real frames to count."""

    def __init__(self, gate: SpeechGate | None = None, device: str = "auto"):
        self.gate = gate or SpeechGate()
        try:
            import librosa  # noqa: F401
            import webrtcvad  # noqa: F401
        except ImportError as exc:
            hint = ("pip install webrtcvad-wheels (the webrtcvad package no longer imports)"
                    if "webrtcvad" in str(exc) else "pip install \".[models]\"")
            raise SpeakerError(f"the resemblyzer speaker encoder cannot run ({exc}): {hint}") from None
        try:
            self.weights, self.source = ge2e.weights_path()
        except ge2e.WeightsError as exc:
            raise SpeakerError(f"the resemblyzer speaker encoder has no weights: {exc}") from None
        self.device = _device(device)
        self.model = ge2e.build_model(self.weights, self.device)

    def describe(self) -> str:
        return (
            f"resemblyzer {ge2e.VERSION} GE2E voice encoder (pretrained.pt sha256={ge2e.WEIGHTS_SHA256}, "
            f"{self.source}) device={self.device}; gate rms>={self.gate.min_rms_dbfs} dBFS, "
            f"voiced>={self.gate.min_voiced_seconds} s; input 16 kHz via {RESAMPLER}"
        )

    def preprocess(self, clips: Sequence[ClipInput], rate: int = SPEAKER_RATE) -> list["np.ndarray"]:
        """Each clip checked, volume-normalised and VAD-trimmed as Resemblyzer does; refuses non-speech."""
        out = []
        for label, x in prepare_clips(clips, rate):
            check_level(label, x, self.gate)
            wav = ge2e.preprocess(x)
            check_duration(label, len(wav), self.gate)
            out.append(wav)
        return out

    def embed(self, clips: Sequence[ClipInput], rate: int = SPEAKER_RATE) -> "np.ndarray":
        import numpy as np
        import torch

        wavs = self.preprocess(clips, rate)
        if not wavs:
            return np.zeros((0, ge2e.EMBEDDING), dtype=np.float32)
        mels, owner = [], []
        for i, wav in enumerate(wavs):
            wav_slices, mel_slices = ge2e.partial_slices(len(wav), self.rate, self.min_coverage)
            if wav_slices[-1].stop >= len(wav):
                wav = np.pad(wav, (0, wav_slices[-1].stop - len(wav)), "constant")
            mel = ge2e.mel_spectrogram(wav)
            mels.extend(mel[s] for s in mel_slices)
            owner.extend([i] * len(mel_slices))
        with torch.no_grad():
            partials = self.model(torch.from_numpy(np.stack(mels)).to(self.device)).cpu().numpy()
        owner_arr = np.asarray(owner)
        raw = np.stack([partials[owner_arr == i].mean(axis=0) for i in range(len(wavs))])
        return (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)


# ----------------------------------------------------------------------------- WavLM x-vector


class WavLMEncoder:
    """A transformers WavLM x-vector model (default ``microsoft/wavlm-base-plus-sv``); clips of equal
    length are embedded as one batch (no padding, so a clip's embedding never depends on its batch)."""

    def __init__(self, model: str = DEFAULT_WAVLM, gate: SpeechGate | None = None, device: str = "auto"):
        self.spec = f"wavlm:{model}"
        self.model_id = model
        self.gate = gate or SpeechGate()
        self.device = _device(device)
        try:
            from transformers import AutoFeatureExtractor, WavLMForXVector
        except ImportError:
            raise SpeakerError(f"{self.spec} needs transformers: pip install transformers") from None
        try:
            self.feature_extractor = AutoFeatureExtractor.from_pretrained(model)
            self.model = WavLMForXVector.from_pretrained(model).eval().to(self.device)
        except Exception as exc:  # OSError offline / missing files, ValueError for a wrong model type
            raise SpeakerError(
                f"speaker model {model!r} could not be loaded as a WavLM x-vector model with its feature extractor "
                f"({type(exc).__name__}: {exc}); it downloads from the Hugging Face Hub on first use, "
                "or pass wavlm:PATH to a local folder"
            ) from None
        sr = getattr(self.feature_extractor, "sampling_rate", SPEAKER_RATE)
        if sr != SPEAKER_RATE:
            raise SpeakerError(f"speaker model {model!r} expects {sr} Hz input; "
                               f"only {SPEAKER_RATE} Hz models are supported")
        self.revision = getattr(self.model.config, "_commit_hash", None) or "local"

    def describe(self) -> str:
        import transformers

        return (
            f"WavLMForXVector {self.model_id} (revision {self.revision}, transformers {transformers.__version__}) "
            f"device={self.device}; gate rms>={self.gate.min_rms_dbfs} dBFS, length>={self.gate.min_voiced_seconds} s; "
            f"input 16 kHz via {RESAMPLER}"
        )

    def embed(self, clips: Sequence[ClipInput], rate: int = SPEAKER_RATE) -> "np.ndarray":
        import numpy as np
        import torch

        prepared = prepare_clips(clips, rate)
        for label, x in prepared:
            check_level(label, x, self.gate)
            check_duration(label, len(x), self.gate, what="audio")
        if not prepared:
            return np.zeros((0, int(self.model.config.xvector_output_dim)), dtype=np.float32)
        # Batch only clips of equal length: padding leaks into WavLM's convolutional feature
        # encoder and positional convolution, so a padded clip's embedding would depend on what
        # else is in the batch. (q10's splits all have one length, so they still form one batch.)
        out = np.zeros((len(prepared), int(self.model.config.xvector_output_dim)), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, (_, x) in enumerate(prepared):
            by_length.setdefault(len(x), []).append(i)
        for idx in by_length.values():
            inputs = self.feature_extractor(
                [prepared[i][1] for i in idx], sampling_rate=SPEAKER_RATE, return_tensors="pt"
            )
            with torch.no_grad():
                emb = self.model(**{k: v.to(self.device) for k, v in inputs.items()}).embeddings
            out[idx] = torch.nn.functional.normalize(emb.float(), dim=-1).cpu().numpy()
        return out
