"""openai-whisper, what the homework used: ``openai-whisper:NAME`` (tiny … large-v3, turbo; the weights download
on first use) or ``openai-whisper:FILE.pt`` (a local checkpoint).

Many clips in one call: their log-mel spectrograms are stacked and go through the encoder as one batch, then
``whisper.decode`` (greedy on the batch, beam search per clip on the encoded batch); a clip longer than 30 s is
transcribed on its own. Decoding is deterministic: temperature 0, no fallback, beam search of
``AsrOptions.beam_size``.

Its registry row is :data:`ROW`. torch and whisper are imported inside functions only.
"""
from __future__ import annotations

import logging
import os
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
    prepare_clips,
    refuse_language,
    settings_text,
)
from checks.models.probe import ProbeLine, ProbeTools

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

log = logging.getLogger(__name__)


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
            + settings_text(self.device, "fp16" if self.fp16 else "fp32", self.options,
                             f"whisper.decode batched by {self.batch_size}")
        )

    def transcribe(self, clips: Sequence[ClipInput], rate: int = ASR_RATE,
                   language: str | None = None) -> list[Transcript]:
        refuse_language(self, language)
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
        return complete(out)

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


# ----------------------------------------------------------------------------- doctor


def probe(spec: AsrSpec, tools: ProbeTools) -> list[ProbeLine]:
    """``hw10 doctor``: a local checkpoint file, or a model name whose weights are in the download cache or whose
    download host answers."""
    import whisper

    if Path(spec.model).expanduser().is_file():
        return [ProbeLine(f"openai-whisper checkpoint {spec.model}")]
    if spec.model not in whisper._MODELS:
        return [ProbeLine(f"{spec.model!r} is no openai-whisper model ({', '.join(whisper.available_models())})",
                          True, "fix --asr")]
    url = whisper._MODELS[spec.model]
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper"
    if (root / os.path.basename(url)).is_file():
        return [ProbeLine(f"openai-whisper {spec.model} in {root}")]
    try:
        status = tools.get(url.rsplit("/", 1)[0] + "/")
    except OSError as exc:  # URLError, socket.timeout, TimeoutError, ConnectionError
        return [ProbeLine(f"openai-whisper {spec.model} is not in {root} and its download ({url.split('/')[2]}) is "
                          f"not reachable ({getattr(exc, 'reason', exc)})",
                          True, "copy the .pt file over and pass --asr openai-whisper:/path/to/FILE.pt")]
    return [ProbeLine(f"openai-whisper {spec.model} downloads on first use (from {url.split('/')[2]}, reachable: "
                      f"HTTP {status})")]


ROW = BackendRow(
    name="openai-whisper", load=OpenAIWhisperBackend, probe=probe,
    forms=("openai-whisper:NAME (e.g. turbo, large-v3; downloaded)", "openai-whisper:FILE.pt"),
    package="whisper", install="pip install \".[key]\"")
"""openai-whisper's row in :data:`checks.models.asr.registry.ASR_BACKENDS`."""
