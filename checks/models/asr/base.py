"""What every ASR backend shares: the spec (:class:`AsrSpec`), the options (:class:`AsrOptions`), the result
(:class:`Transcript`), the interface (:class:`AsrBackend`), the clips' preparation at 16 kHz
(:func:`prepare_clips`, :func:`layout_pieces`) and a backend's registry row (:class:`BackendRow`).

Audio is fed at 16 kHz: arrays at another rate are resampled with :func:`checks.audio.resample` (soxr VHQ), files
are read with :func:`checks.audio.load_audio`. Never hand Whisper a 24 kHz array as if it were 16 kHz (Mimi decodes
at 24 kHz): pass ``rate=24000`` instead. numpy is imported inside functions only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence, Union, runtime_checkable

from checks.audio import RESAMPLER, load_audio, resample, samples_problem
from checks.models.probe import ProbeLine, ProbeTools

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

DEFAULT_ASR = "openai-whisper:turbo"
"""What the homework used (openai-whisper); offline here: ``faster-whisper:tiny.en-bundled``."""

ASR_RATE = 16_000
"""Whisper's input rate (Hz)."""
WINDOW_SECONDS = 30
"""Whisper's window: one encoder pass sees at most this many seconds."""
GPU_BATCH = 16
"""30 s windows decoded together on a GPU."""
CPU_BATCH = 2
"""… and on a CPU, where a batch is no faster and each window of it costs memory. Measured 2026-12-01 on 2 cores
with turbo's dimensions, beam 5: faster-whisper int8, 8 clips in batches of 8 83.2 s at 2.8 GB peak, of 2 83.5 s
at 1.5 GB (in a whole key run, batches of 16 made q09 the 12.3 GB peak); openai-whisper, batches of 8 156.8 s
against 137.5 s one at a time."""

ClipInput = Union["np.ndarray", str, Path]
"""A 1-D float array of samples (at the ``rate`` given to ``transcribe``) or an audio file path."""


class AsrError(ValueError):
    """An ASR backend that cannot be used (bad spec, missing package, unloadable model, bad clip);
    the message names the model folder, file or clip."""


@dataclass(frozen=True)
class AsrSpec:
    """A parsed ``--asr`` value."""

    backend: str
    """A registered backend's name (:data:`checks.models.asr.registry.ASR_BACKENDS`), e.g. ``faster-whisper``."""
    model: str
    """Model folder/file path or model name, as written after the colon."""

    def __str__(self) -> str:
        return f"{self.backend}:{self.model}"


@dataclass(frozen=True)
class AsrOptions:
    """How to run a backend. Defaults: deterministic beam search on whatever device is there."""

    beam_size: int = 5
    """Beam width (1 = greedy). Decoding is always at temperature 0 with no fallback."""
    language: str | None = "en"
    """Language code of the speech, or None to detect it per clip (multilingual models only)."""
    device: str = "auto"
    """``cpu``, ``cuda`` or ``auto`` (cuda when available)."""
    compute_type: str = "auto"
    """faster-whisper/CTranslate2 compute type; ``auto`` = int8 on cpu, float16 on cuda.
    openai-whisper ignores it and uses fp16 on cuda, fp32 on cpu."""
    batch_size: int | None = None
    """Most 30 s windows decoded together (None: :data:`GPU_BATCH` on a GPU, :data:`CPU_BATCH` on a CPU)."""
    cpu_threads: int = 0
    """CTranslate2 intra-op threads (0 = its default)."""
    download_root: str | None = None
    """Where downloaded weights go (None = the library's default cache)."""
    max_tokens: int | None = None
    """Most tokens decoded per clip (None: Whisper's own limit, 224). Only ``hw10 bench``'s real-size key stage sets
    it: random weights never end a transcript, and a real one of a clip of a few seconds is a few dozen tokens."""

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise AsrError(f"beam_size must be at least 1, not {self.beam_size}")
        if self.batch_size is not None and self.batch_size < 1:
            raise AsrError(f"batch_size must be at least 1, not {self.batch_size}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise AsrError(f"device must be auto, cpu or cuda, not {self.device!r}")


@dataclass(frozen=True)
class Transcript:
    """What the ASR heard in one clip."""

    text: str
    """The transcript as the model wrote it (surrounding whitespace stripped; not normalised)."""
    language: str
    """Language code it was decoded as (the requested or the detected one)."""
    avg_logprob: float | None = None
    """Mean log-probability per generated token (higher = more confident); None if unknown."""
    no_speech_prob: float | None = None
    """Whisper's probability that the window holds no speech; None if unknown."""


@runtime_checkable
class AsrBackend(Protocol):
    """A loaded ASR model. Load once (:func:`checks.models.asr.load_asr`), pass it around, call ``transcribe`` often."""

    spec: AsrSpec
    options: AsrOptions

    def transcribe(self, clips: Sequence[ClipInput], rate: int = ASR_RATE,
                   language: str | None = None) -> list[Transcript]:
        """One :class:`Transcript` per clip, in order. Arrays are at ``rate`` Hz (resampled to 16 kHz).
        ``language`` (``zh``, ``en`` …) overrides the options' language for this call; an English-only model
        refuses any other with an :class:`AsrError` (:func:`can_transcribe` asks first)."""
        ...

    def describe(self) -> str:
        """One line for provenance: backend, versions, model path+sha256 or name, compute type, options."""
        ...


def prepare_clips(clips: Sequence[ClipInput], rate: int = ASR_RATE) -> list["np.ndarray"]:
    """Every clip as a 1-D float32 array at 16 kHz (files read and resampled, arrays resampled).

    Raises :class:`AsrError` naming the clip for a wrong shape/dtype, no samples or NaN/inf;
    :class:`checks.audio.AudioError` for an unreadable file."""
    import numpy as np

    if isinstance(clips, (str, Path)) or getattr(clips, "ndim", None) is not None:
        raise AsrError("transcribe takes a list of clips (arrays or paths), not a single clip")
    if rate <= 0:
        raise AsrError(f"sampling rate must be positive, not {rate}")
    out = []
    for i, clip in enumerate(clips):
        if isinstance(clip, (str, Path)):
            out.append(load_audio(clip, ASR_RATE).samples)
            continue
        x = np.asarray(clip)
        problem = samples_problem(x, f"clip {i}")
        if problem:
            raise AsrError(problem)
        out.append(resample(x, rate, ASR_RATE))
    return out


@dataclass(frozen=True)
class Piece:
    """Where one ≤30 s piece of a clip sits on the canvas fed to the batched pipeline."""

    clip: int
    """Index of the clip it belongs to."""
    src_start: int
    """First sample of the piece in the clip."""
    length: int
    """Samples in the piece."""
    canvas_second: int
    """Whole second of the canvas where the piece starts (distinct per piece)."""


def layout_pieces(lengths: Sequence[int], rate: int = ASR_RATE, window_seconds: int = WINDOW_SECONDS) -> list[Piece]:
    """Cut clips of ``lengths`` samples into pieces of at most ``window_seconds`` and give each its
    own whole-second start on one canvas (so a segment's ``seek`` names its piece exactly)."""
    window = window_seconds * rate
    pieces: list[Piece] = []
    second = 0
    for clip, n in enumerate(lengths):
        for start in range(0, n, window):
            length = min(window, n - start)
            pieces.append(Piece(clip, start, length, second))
            second += -(-length // rate)  # ceil: the next piece starts on a fresh second
    return pieces


def complete(out: list[Transcript | None]) -> list[Transcript]:
    """The transcripts of a call, one per clip; an :class:`AsrError` if any clip got none."""
    missing = [i for i, t in enumerate(out) if t is None]
    if missing:  # a bookkeeping bug must never shift transcripts onto the wrong clips
        raise AsrError(f"no transcript came back for clip(s) {missing}")
    return [t for t in out if t is not None]


def can_transcribe(asr, language: str) -> bool:
    """Whether ``asr`` (a loaded backend) can transcribe speech in ``language``: a multilingual model can, an
    English-only one only ``en``."""
    return language == "en" or bool(getattr(asr, "multilingual", False))


def refuse_language(asr, language: str | None) -> None:
    """An :class:`AsrError` when ``asr`` cannot transcribe ``language`` (:func:`can_transcribe`)."""
    if language and not can_transcribe(asr, language):
        raise AsrError(f"{asr.spec} is an English-only model; it cannot transcribe language {language!r}")


def group_by_language(languages: Sequence[str]) -> dict[str, list[int]]:
    """Clip indices per language, in first-seen order."""
    groups: dict[str, list[int]] = {}
    for i, lang in enumerate(languages):
        groups.setdefault(lang, []).append(i)
    return groups


def settings_text(device: str, compute_type: str, options: AsrOptions, batching: str) -> str:
    """How a backend decodes, for its provenance line (the same words for every backend)."""
    return (f"device={device} compute_type={compute_type} beam_size={options.beam_size} temperature=0 "
            f"language={options.language or 'auto'} {batching}; input 16 kHz via {RESAMPLER}")


@dataclass(frozen=True)
class BackendRow:
    """One ASR backend in the registry (:data:`checks.models.asr.registry.ASR_BACKENDS`): everything the loader, the
    ``--asr`` option and ``hw10 doctor`` know of it. A new backend is its module (the class and its probe) and
    one row."""

    name: str
    """What ``--asr`` names it by, before the colon (``faster-whisper``)."""
    load: Callable[[AsrSpec, AsrOptions], AsrBackend]
    """Loads the model a spec names now (a bad spec fails early with an :class:`AsrError`)."""
    probe: Callable[[AsrSpec, ProbeTools], list[ProbeLine]]
    """``hw10 doctor``'s look at a spec's weights without loading them (found locally, cached, or reachable);
    runs only when :attr:`package` imports."""
    forms: tuple[str, ...]
    """The spec forms it takes, each with a note (``faster-whisper:PATH (a CTranslate2 Whisper model folder)``):
    the accepted forms an error lists."""
    package: str
    """The module it imports (``faster_whisper``): missing, the doctor says so and :attr:`install`."""
    install: str
    """How to install :attr:`package`."""
    offline: tuple[str, ...] = ()
    """Models it runs without any network (``tiny.en-bundled``, ``PATH``): the ``--asr`` help's offline choices."""
