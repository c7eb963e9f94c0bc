"""Sesame's CSM through transformers (``CsmForConditionalGeneration`` + ``AutoProcessor``), for q11/q12.

Two sources (:class:`CsmSource`): a Hub id (default ``sesame/csm-1b``, gated: the token comes from
``HF_TOKEN`` or a saved ``hf auth login``, optionally pinned to a revision), or a local folder
holding the model *and* its processor (``save_pretrained`` of both, or ``hf download``). Anything
that keeps the model from loading (no token, a refused token, terms not accepted, an unreachable
Hub, a folder without a processor, missing weights) is one :class:`checks.models.mimi.ModelUnavailable`
whose message says what to do.

:class:`CsmRunner` does what the homework's Colab does: ``processor.apply_chat_template(conversation,
tokenize=True, return_dict=True)`` then ``model.generate(**inputs, output_audio=True)``, seeded
(``torch.manual_seed`` inside a forked RNG, so nothing global changes), with ``max_new_tokens``
given per call. One call keeps both the generated codes (int64 ``[frames, 32]``, the final
all-zero end frame included when the model emitted one) and CSM's own ``output_audio`` (the codes
cut at the first all-zero frame, decoded by ``model.codec_model``). When CSM emits the end frame
first there is nothing to decode: CSM's own decode then fails inside ``generate``, and the codes seen
by a streamer tell an empty generation (``Generation.audio is None``) from a real failure
(:class:`CsmGenerationError`).

Generation kwargs prefixed ``depth_decoder_`` are never passed per call: transformers writes them
into the depth decoder's generation config for good. Settings belong in the checkpoint's
``generation_config.json``.

torch/transformers/huggingface_hub are imported inside functions only.
"""
from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Sequence

from checks.assets import file_sha256 as _sha256
from checks.models.cpu_linear import use_onednn_linears
from checks.models.hub import (
    HUB_TIMEOUT_S,
    ModelUnavailable,
    check_checkpoint_folder,
    check_loading_info,
    fixture_note,
    looks_local,
    offline_message,
    require_model_libraries,
    resolve_device,
    token_source,
)
from checks.models.numerics import bf16_supported
from grader.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

log = logging.getLogger(__name__)

DEFAULT_CSM = "sesame/csm-1b"
"""Gated: needs HF_TOKEN (or `hf auth login`) after accepting the model's terms on the Hub."""
CSM_DTYPES = ("auto", "float32", "bfloat16", "float16")
"""``auto``: bfloat16 on a GPU, float32 on the CPU."""
WEIGHT_PATTERNS = ("model.safetensors", "model-*.safetensors", "pytorch_model.bin", "pytorch_model-*.bin")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")
FEATURE_EXTRACTOR_FILES = ("preprocessor_config.json", "processor_config.json")
CHAT_TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")

SourceKind = Literal["hub", "local"]


class CsmGenerationError(RuntimeError):
    """``generate`` failed for a reason other than an empty generation; the message names the model."""


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
    """Which kernel computes its linear layers on a CPU (:func:`cpu_kernels`); ``None`` on a GPU."""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


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


# ----------------------------------------------------------------------------- pure helpers


def csm_source_kind(ref: str) -> SourceKind:
    """``local`` for an existing path or something spelt like a path; else ``hub``."""
    return "local" if looks_local(ref) else "hub"


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


def resolve_dtype(name: str, device: str, bf16_ok: bool | None = None) -> str:
    """The dtype CSM runs in for ``--csm-dtype name`` (an :class:`InputError` for a name not in ``CSM_DTYPES``).

    ``auto``: bfloat16 on a GPU that supports it natively (``bf16_ok``; default: ask torch), else float32 (a
    Colab T4 has no native bfloat16, and float16 risks overflow in a model trained in bfloat16); an explicit
    ``bfloat16`` on a GPU without it is refused."""
    if name not in CSM_DTYPES:
        raise InputError(f"--csm-dtype {name!r}: choose one of {', '.join(CSM_DTYPES)}")
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


# ----------------------------------------------------------------------------- local folders


def _files_matching(folder: Path, patterns: Sequence[str]) -> list[Path]:
    return sorted({p for pat in patterns for p in folder.glob(pat) if p.is_file()})


def _json_has_key(path: Path, key: str) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(data.get(key))


def check_csm_folder(folder: Path) -> list[Path]:
    """Validate (without torch) that ``folder`` holds a CSM checkpoint and its processor; return the weight files."""
    todo = ("pass a folder holding both `model.save_pretrained(DIR)` and `processor.save_pretrained(DIR)` "
            "(or `hf download sesame/csm-1b --local-dir DIR`), or leave --csm out to load sesame/csm-1b from the Hub")
    check_checkpoint_folder(folder, "csm", "CSM", todo)
    weights = _files_matching(folder, WEIGHT_PATTERNS)
    if not weights:
        raise ModelUnavailable(f"CSM config but no weights (expected model.safetensors or its shards); {todo}",
                               file=str(folder))
    missing = []
    if not _files_matching(folder, TOKENIZER_FILES):
        missing.append("a tokenizer (tokenizer.json)")
    if not _files_matching(folder, FEATURE_EXTRACTOR_FILES):
        missing.append("the audio feature extractor settings (processor_config.json or preprocessor_config.json)")
    has_template = bool(_files_matching(folder, CHAT_TEMPLATE_FILES)) or any(
        _json_has_key(folder / name, "chat_template") for name in ("processor_config.json", "tokenizer_config.json"))
    if not has_template:
        missing.append("the chat template (chat_template.jinja)")
    if missing:
        raise ModelUnavailable("the folder holds CSM weights but no processor: missing " + "; ".join(missing)
                               + f" — save the processor next to the model (`processor.save_pretrained(DIR)`); {todo}",
                               file=str(folder))
    return weights


# ----------------------------------------------------------------------------- loading


def _gated_message(ref: str, why: str) -> str:
    return (f"cannot load {ref}: {why}. {ref} is gated: accept its terms on https://huggingface.co/{ref} with your "
            "account, create a read token (Settings → Access Tokens) and set HF_TOKEN=<token> (or run "
            "`hf auth login`); or download it once elsewhere (`hf download "
            f"{ref} --local-dir csm`) and pass --csm csm")


def _offline_message(ref: str, why: str) -> str:
    return offline_message(ref, why, "csm", colab=f", with HF_TOKEN set: {ref} is gated")


def _hub_access(ref: str, rev: str | None) -> tuple[str | None, str | None]:
    """``(commit, None)`` when the Hub lets this token read ``ref``; ``(None, why)`` when it is unreachable.

    Raises :class:`ModelUnavailable` for every answer that is a refusal (no token, a refused token,
    terms not accepted, no such model or revision)."""
    from huggingface_hub import HfApi
    from huggingface_hub import errors as hf_errors

    source = token_source()
    token_text = {"HF_TOKEN": "the token in HF_TOKEN", "saved login": "the token of your saved `hf auth login`"}
    api = HfApi()
    try:
        commit = api.model_info(ref, revision=rev, timeout=HUB_TIMEOUT_S).sha
        api.auth_check(ref)
        return commit, None
    except hf_errors.GatedRepoError:
        why = ("no Hugging Face token was found (HF_TOKEN is unset and there is no saved login)" if source is None
               else f"the Hub says {token_text[source]} has no access to it (its terms are not accepted for that "
                    "account, or the token lacks read access to gated repositories)")
        raise ModelUnavailable(_gated_message(ref, why)) from None
    except hf_errors.RevisionNotFoundError:
        raise ModelUnavailable(f"revision {rev!r} of {ref} does not exist on the Hub") from None
    except hf_errors.RepositoryNotFoundError:
        why = ("the Hub says there is no such model, or that it needs a token and none was found"
               if source is None else f"the Hub says there is no such model visible to {token_text[source]}")
        raise ModelUnavailable(_gated_message(ref, why) if ref == DEFAULT_CSM else
                               f"cannot load {ref}: {why} (check the id; for a private or gated model set HF_TOKEN); "
                               "a local folder must exist") from None
    except hf_errors.HFValidationError:
        raise ModelUnavailable(f"--csm {ref!r} is neither an existing folder nor a valid Hub id "
                               "(namespace/name)") from None
    except hf_errors.HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            who = token_text.get(source or "", "the request (no token)")
            detail = (getattr(exc, "server_message", None) or "").strip() or f"HTTP {status}"
            raise ModelUnavailable(_gated_message(ref, f"the Hub refused {who} (HTTP {status}: {detail})")) from None
        return None, f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    except Exception as exc:  # connection refused, DNS failure, timeout, offline mode
        return None, f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _from_pretrained(where: str, dtype: str, **kw):
    import torch
    from transformers import AutoProcessor, CsmForConditionalGeneration

    model, info = CsmForConditionalGeneration.from_pretrained(where, dtype=getattr(torch, dtype),
                                                              output_loading_info=True, **kw)
    processor = AutoProcessor.from_pretrained(where, **kw)
    return model, processor, info


def _check_processor(ref: str, processor) -> None:
    if getattr(processor, "chat_template", None) is None:
        raise ModelUnavailable("the processor has no chat template (chat_template.jinja): save it with "
                               "`processor.save_pretrained(DIR)`", file=ref)
    fe = getattr(processor, "feature_extractor", None)
    if fe is None or getattr(fe, "sampling_rate", None) is None:
        raise ModelUnavailable("the processor has no audio feature extractor", file=ref)


def load_csm(src: CsmSource, options: CsmRunOptions | None = None) -> "CsmRunner":
    """Load CSM and its processor from ``src``; raises :class:`ModelUnavailable` (InputError for a bad device/dtype)."""
    require_model_libraries()
    device = resolve_device(src.device)
    dtype = resolve_dtype(src.dtype, device)
    kind = src.kind
    if kind != "hub" and src.revision:
        raise InputError(f"--csm-revision applies to a Hub id, not to {src.ref!r}")
    commit = hashes = token = fixture = None
    if kind == "local":
        folder = Path(src.ref).expanduser()
        weights = check_csm_folder(folder)
        try:
            model, processor, info = _from_pretrained(str(folder), dtype)
        except InputError:
            raise
        except Exception as exc:  # OSError, ValueError (size mismatch), safetensors and tokenizer errors…
            raise ModelUnavailable(f"cannot load as CSM: {type(exc).__name__}: {' '.join(str(exc).split())}",
                                   file=str(folder)) from None
        hashes = {p.name: _sha256(p) for p in weights}
        fixture = fixture_note(folder)
        desc = f"local folder {src.ref} (weights sha256 {next(iter(hashes.values()))[:12]}…)"
        if fixture:
            desc += f" — {fixture}"
    else:
        token = token_source()
        commit, unreachable = _hub_access(src.ref, src.revision)
        offline = unreachable is not None
        if offline:
            log.info("Hub unreachable (%s); trying the local cache", unreachable)
        try:
            model, processor, info = _from_pretrained(src.ref, dtype, revision=commit or src.revision,
                                                      local_files_only=offline)
        except InputError:
            raise
        except Exception as exc:
            if offline:
                raise ModelUnavailable(_offline_message(src.ref, unreachable)) from None
            raise ModelUnavailable(f"cannot load {src.ref} (revision {commit or src.revision or 'main'}) as CSM: "
                                   f"{type(exc).__name__}: {' '.join(str(exc).split())}") from None
        commit = commit or getattr(model.config, "_commit_hash", None)
        desc = f"{src.ref}@{(commit or src.revision or 'main')[:12]}" + (" (local cache, offline)" if offline else "")
    check_loading_info(src.ref, info, "CSM ")
    _check_processor(src.ref, processor)
    model = model.to(device).eval()
    info_out = CsmInfo(kind=kind, ref=src.ref, revision=src.revision, commit=commit, weights_sha256=hashes,
                       device=device, dtype=dtype, token=token, fixture=fixture, description=desc,
                       dtype_policy=dtype_policy(src.dtype, device, dtype), linear_kernels=cpu_kernels(model))
    log.info("loaded CSM: %s on %s (%s)", desc, device, dtype)
    return CsmRunner(model, processor, info_out, options or CsmRunOptions())


def cpu_kernels(model) -> str | None:
    """On the CPU, CSM's backbone and depth decoder compute their float32 linear layers with oneDNN
    (:mod:`checks.models.cpu_linear`: a frame of a batch of 5 replies took 1.58 s instead of 3.66 s with csm-1b's
    dimensions); its codec keeps PyTorch's default kernels, exactly the standalone Mimi's path (q12 compares the
    two). Returns the provenance line; ``None`` on a GPU (nothing changed)."""
    if next(model.parameters()).device.type != "cpu":
        return None
    kernels = use_onednn_linears(model, skip=[model.codec_model])
    log.info("CSM: %s", kernels.describe())
    return kernels.describe()


# ----------------------------------------------------------------------------- running


def _cache_of(out):
    """The key/value cache a CSM forward or ``generate`` returned (its attribute's name depends on transformers'
    version), or ``None``."""
    return getattr(out, "cache", None) or getattr(out, "past_key_values", None)


def _cache_length(out) -> int | None:
    """Positions in the key/value cache ``generate`` returned (``None`` when it returned none)."""
    cache = _cache_of(out)
    return int(cache.get_seq_length()) if cache is not None and hasattr(cache, "get_seq_length") else None


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
            cached = _cache_length(out)
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
        """``generate`` arguments for ``n`` replies that share one run of the prompt, and the prompt's length.

        The prompt but its last token goes through the model once (batch 1, its audio Mimi-encoded once) and its
        key/value cache is repeated ``n`` times; ``generate`` then gets only the last token (``n`` times) with the
        whole attention mask, and samples from there exactly as from the full prompt (the same function: the cache
        is what the prefill would have computed, row for row). Saves ``n - 1`` prefills and encodings (for q11's
        batch of 5 with csm-1b's dimensions on a 2-core CPU, 2 frames took 6.9 s instead of 22 s). ``None`` where
        that cannot be relied on: a transformers whose ``prepare_inputs_for_generation`` has no
        ``next_sequence_length`` (older versions place a pre-filled cache otherwise), a prompt that is not one
        conversation, or one ending in an audio token. The caller also checks the returned cache's length
        (:func:`_cache_length`) and falls back to the repeated prompt if it is off."""
        import inspect

        import torch

        model = self.model
        ids, mask = inputs.get("input_ids"), inputs.get("attention_mask")
        forward = inspect.signature(model.forward).parameters
        if ("next_sequence_length" not in inspect.signature(model.prepare_inputs_for_generation).parameters
                or not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.shape[0] != 1 or ids.shape[1] < 2
                or mask is None or int(ids[0, -1]) in (model.config.audio_token_id, model.config.audio_eos_token_id)):
            return None
        cache_arg = "cache" if "cache" in forward else "past_key_values"
        prefix = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
        with torch.no_grad():
            out = model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], use_cache=True, **prefix)
        cache = _cache_of(out)
        if cache is None or not hasattr(cache, "batch_repeat_interleave") or cache.get_seq_length() != ids.shape[1] - 1:
            return None
        cache.batch_repeat_interleave(n)
        kwargs = {"input_ids": ids[:, -1:].repeat(n, 1), "attention_mask": mask.repeat(n, 1), cache_arg: cache}
        return kwargs, int(ids.shape[1])

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
