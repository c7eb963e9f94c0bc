"""Running a loaded CSM: :class:`CsmRunner` does what the homework's Colab does, in one seeded ``generate`` call for
one reply or a batch of replies, and keeps both the generated codes and CSM's own decoded audio.

``processor.apply_chat_template(conversation, tokenize=True, return_dict=True)`` then ``model.generate(**inputs,
output_audio=True)``, seeded (``torch.manual_seed`` inside a forked RNG, so nothing global changes), with
``max_new_tokens`` given per call. One call keeps both the generated codes (int64 ``[frames, 32]``, the final
all-zero end frame included when the model emitted one: :func:`end_frame_index`) and CSM's own ``output_audio``
(the codes cut at the first all-zero frame, decoded by ``model.codec_model``). When CSM emits the end frame first
there is nothing to decode: CSM's own decode then fails inside ``generate``, and the codes seen by a streamer tell
an empty generation (``Generation.audio is None``) from a real failure (:class:`CsmGenerationError`).

Generation kwargs prefixed ``depth_decoder_`` are never passed per call: transformers writes them into the depth
decoder's generation config for good. Settings belong in the checkpoint's ``generation_config.json``.

A batch runs its prompt once where it can (:func:`checks.models.csm.speedups.shared_prompt`). torch is imported
inside functions only.
"""
from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from checks.models.csm import speedups
from checks.models.csm.source import CsmInfo, CsmRunOptions

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

log = logging.getLogger(__name__)


class CsmGenerationError(RuntimeError):
    """``generate`` failed for a reason other than an empty generation; the message names the model."""


@dataclass(frozen=True)
class Turn:
    """One message of a CSM conversation, in the Colab's terms."""

    role: str
    """Speaker id as a digit string (``"0"``, ``"1"``)."""
    text: str
    """What is said (verbatim)."""
    audio: Any = None
    """Mono float32 samples at the processor's rate (the voice saying ``text``), or ``None`` (text only)."""


@dataclass
class Generation:
    """One seeded ``generate`` call: the codes and CSM's own decoded audio."""

    seed: int
    """The ``torch.manual_seed`` of this call."""
    max_new_tokens: int
    """The frame limit it ran under."""
    codes: "torch.Tensor"
    """int64 ``[frames, num_codebooks]`` as ``generate`` returned them (end frame included), on the CPU."""
    end_frame: int | None
    """Index of the first all-``codebook_eos_token_id`` frame (where CSM's ``output_audio`` cuts); ``None``
    when the model never emitted one (it ran to ``max_new_tokens``)."""
    audio: "np.ndarray | None"
    """CSM's own ``output_audio`` (float32 at :attr:`CsmRunner.sampling_rate`); ``None`` when the end frame
    came first (nothing to decode)."""
    wall_s: float
    """Seconds the ``generate`` call took (prompt encoding, sampling and decoding; in a batch, its share)."""
    batch_index: int | None = None
    """Its place in a batched call (:meth:`CsmRunner.generate_batch`); ``None``: generated alone."""
    shared_prompt: bool = False
    """The batch ran its prompt once for all its replies (:meth:`CsmRunner._shared_prompt`)."""

    @property
    def audio_frames(self) -> int:
        """Frames before the end frame: the ones CSM decodes."""
        return int(self.codes.shape[0]) if self.end_frame is None else int(self.end_frame)

    @property
    def empty(self) -> bool:
        return self.audio is None

    def audio_codes(self) -> "torch.Tensor":
        """The codes CSM decodes, as Mimi takes them: ``[1, num_codebooks, audio_frames]``."""
        return self.codes[: self.audio_frames].T.unsqueeze(0).contiguous()


def chat_messages(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """The conversation in the Colab's format: ``{"role", "content": [text, audio?]}`` per turn.

    Checked as CSM's chat template checks it: roles are digit strings, every turn but the last has
    audio, the last one may have none."""
    if not turns:
        raise ValueError("a CSM conversation needs at least one turn")
    out = []
    for i, t in enumerate(turns):
        if not (isinstance(t.role, str) and t.role.isdigit()):
            raise ValueError(f"turn {i}: role must be a digit string such as '0', not {t.role!r}")
        if not t.text:
            raise ValueError(f"turn {i}: empty text")
        if t.audio is None and i < len(turns) - 1:
            raise ValueError(f"turn {i}: every turn but the last needs its audio")
        content: list[dict[str, Any]] = [{"type": "text", "text": t.text}]
        if t.audio is not None:
            content.append({"type": "audio", "path": t.audio})
        out.append({"role": t.role, "content": content})
    return out


def end_frame_index(codes: "torch.Tensor", eos_id: int) -> int | None:
    """First frame of ``codes [frames, K]`` whose every code is ``eos_id`` (CSM's ``output_audio`` rule)."""
    hits = (codes == eos_id).all(dim=-1).nonzero()
    return int(hits[0, 0]) if hits.numel() else None


class _FrameRecorder:
    """A generation streamer keeping every frame ``generate`` produced (the first ``put`` is the prompt).

    Only read when ``generate`` raised: it tells an end frame that came first (nothing to decode)
    from any other failure."""

    def __init__(self) -> None:
        self.frames: list = []
        self._prompt_seen = False

    def put(self, value) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self.frames.append(value.detach().to("cpu").clone())

    def end(self) -> None:
        pass


class CsmRunner:
    """A loaded CSM and its processor, with the operations q11/q12 need."""

    def __init__(self, model, processor, info: CsmInfo, options: CsmRunOptions):
        self.model = model
        self.processor = processor
        self.info = info
        self.options = options

    @property
    def sampling_rate(self) -> int:
        return int(self.processor.feature_extractor.sampling_rate)

    @property
    def num_codebooks(self) -> int:
        return int(self.model.config.num_codebooks)

    @property
    def eos_code(self) -> int:
        return int(self.model.config.codebook_eos_token_id)

    @property
    def codec(self):
        """CSM's own codec (a ``MimiModel``)."""
        return self.model.codec_model

    @property
    def codec_config(self):
        return self.model.config.codec_config

    @property
    def device(self):
        return next(self.model.parameters()).device

    @property
    def dtype(self):
        return next(self.model.parameters()).dtype

    def prepare(self, turns: Sequence[Turn]):
        """``processor.apply_chat_template(conversation, tokenize=True, return_dict=True)`` on the model's device."""
        inputs = self.processor.apply_chat_template(chat_messages(turns), tokenize=True, return_dict=True)
        inputs = inputs.to(self.device)
        if "input_values" in inputs:
            inputs["input_values"] = inputs["input_values"].to(self.dtype)
        return inputs

    @contextlib.contextmanager
    def _seeded(self, seed: int):
        """Within the block torch's random state (CPU, and this runner's GPU) is seeded with ``seed``; the caller's
        state comes back after it."""
        import torch

        with torch.random.fork_rng(devices=[self.device.index or 0] if self.device.type == "cuda" else []):
            torch.manual_seed(seed)
            yield

    def generate_batch(self, inputs, *, seed: int, n: int, max_new_tokens: int,
                       share_prompt: bool = True) -> list[Generation]:
        """``n`` replies from ONE seeded ``generate`` call on the conversation repeated ``n`` times along the batch
        (a batch of 5 costs little more than one reply: the model runs per frame, not per sample). With
        ``share_prompt`` the prompt is run once for the whole batch where this transformers allows it
        (:meth:`_shared_prompt`; the same replies as without, faster). Reproducible for
        the same ``seed``, ``n`` and device; each :class:`Generation` keeps the batch's ``seed`` and its
        ``batch_index``. A batch that fails (e.g. one reply's end frame came first and CSM's own decoding has nothing
        to decode for it) is a :class:`CsmGenerationError`: the caller generates one reply at a time instead."""
        import torch

        if n < 1 or max_new_tokens < 1:
            raise ValueError(f"n and max_new_tokens must be at least 1, not {n} and {max_new_tokens}")
        if n == 1:
            return [self.generate(inputs, seed=seed, max_new_tokens=max_new_tokens)]
        start = time.perf_counter()
        out = None
        shared = self._shared_prompt(inputs, n) if share_prompt else None
        if shared is not None:
            kwargs, prompt_length = shared
            out = self._generate_batch(kwargs, seed, n, max_new_tokens)
            cached = speedups.cache_length(out)
            if cached is not None and cached != prompt_length - 1 + out.sequences.shape[1]:
                log.warning("CSM: the shared prompt was not used as expected (cache of %d positions for a prompt of %d "
                            "and %d frames); generating the batch with its prompt repeated instead",
                            cached, prompt_length, out.sequences.shape[1])
                out = shared = None
        if out is None:
            batched = {k: v.repeat(n, *([1] * (v.dim() - 1))) if isinstance(v, torch.Tensor) and v.dim() >= 1 else v
                       for k, v in inputs.items()}
            out = self._generate_batch(batched, seed, n, max_new_tokens)
        wall = (time.perf_counter() - start) / n
        gens = []
        for i in range(n):
            codes = out.sequences[i].detach().cpu()
            audio = out.audio[i].detach().float().cpu().numpy() if out.audio[i] is not None else None
            end = end_frame_index(codes, self.eos_code)
            gens.append(Generation(seed, max_new_tokens, codes, end, None if end == 0 else audio, wall, i,
                                   shared_prompt=shared is not None))
        return gens

    def _generate_batch(self, kwargs: dict, seed: int, n: int, max_new_tokens: int):
        with self._seeded(seed):
            try:
                return self.model.generate(**kwargs, max_new_tokens=max_new_tokens, output_audio=True,
                                           return_dict_in_generate=True)
            except Exception as exc:  # a reply with nothing to decode fails the batch's output_audio
                raise CsmGenerationError(f"CSM ({self.info.description}): the batch of {n} failed: "
                                         f"{type(exc).__name__}: {exc}") from exc
    def _shared_prompt(self, inputs, n: int) -> tuple[dict, int] | None:
        """``generate`` arguments for ``n`` replies that share one run of the prompt, and the prompt's length; ``None``
        where that cannot be relied on (:func:`checks.models.csm.speedups.shared_prompt`)."""
        return speedups.shared_prompt(self.model, inputs, n)

    def generate(self, inputs, *, seed: int, max_new_tokens: int) -> Generation:
        """One seeded ``generate(**inputs, output_audio=True)``; see the module docstring for the empty case."""
        import torch

        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {max_new_tokens}")
        recorder = _FrameRecorder()
        start = time.perf_counter()
        with self._seeded(seed):
            try:
                out = self.model.generate(**inputs, max_new_tokens=max_new_tokens, output_audio=True,
                                          return_dict_in_generate=True, streamer=recorder)
            except Exception as exc:
                failure = exc
            else:
                failure = None
        wall = time.perf_counter() - start
        if failure is None:
            codes = out.sequences[0].detach().cpu()
            audio = out.audio[0].detach().float().cpu().numpy()
            return Generation(seed, max_new_tokens, codes, end_frame_index(codes, self.eos_code), audio, wall)
        if not recorder.frames:
            raise CsmGenerationError(f"CSM ({self.info.description}) failed before producing a frame: "
                                     f"{type(failure).__name__}: {failure}") from failure
        codes = torch.cat(recorder.frames, dim=0)  # [frames, K] for batch 1
        end = end_frame_index(codes, self.eos_code)
        if end == 0:
            log.info("seed %d: CSM emitted the end frame first (no audio)", seed)
            return Generation(seed, max_new_tokens, codes, 0, None, wall)
        lo, hi = int(codes.min()), int(codes.max())
        size = int(getattr(self.codec_config, "codebook_size", 0) or 0)
        hint = (f"; codes range {lo}…{hi}, outside Mimi's 0…{size - 1}" if size and (lo < 0 or hi >= size) else "")
        raise CsmGenerationError(f"CSM ({self.info.description}) generated {codes.shape[0]} frames but its own "
                                 f"decoding failed: {type(failure).__name__}: {failure}{hint}") from failure
