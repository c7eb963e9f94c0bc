"""Mimi (Kyutai's codec) through transformers' ``MimiModel`` + feature extractor.

Three sources (:class:`MimiSource`): a Hub id (default ``kyutai/mimi``, optionally pinned to a
revision), a local folder written by ``save_pretrained`` (or ``hf download``), or the literal
``architecture``: the full-size ``MimiConfig()`` with seeded random weights. A random init leaves
every codebook at zero, so the architecture's codebooks are filled with seeded N(0, 1) vectors
(:func:`fill_codebooks`); it is real for everything structural (shapes, dtype, frame math) and
meaningless for anything that lives in the trained weights.

Anything that keeps the model from loading is a :class:`ModelUnavailable` whose message tells the
TA what to do. torch/transformers are imported inside functions only.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from checks.assets import file_sha256 as _sha256
from checks.models.hub import (
    HUB_TIMEOUT_S,
    ModelMismatch,
    ModelUnavailable,
    SourceKind,
    check_checkpoint_folder,
    check_loading_info,
    fixture_note,
    looks_local,
    offline_message,
    require_model_libraries,
    resolve_device,
)
from grader.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

log = logging.getLogger(__name__)

ARCHITECTURE = "architecture"
DEFAULT_MIMI = "kyutai/mimi"
DTYPES = ("float32", "bfloat16", "float16")
DEVICES = ("auto", "cpu", "cuda")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class MimiSource:
    """Where the Mimi weights come from and how to run them."""

    ref: str = DEFAULT_MIMI
    """A Hub id, a local folder, or ``architecture``."""
    revision: str | None = None
    """Hub revision (branch, tag or commit); only for a Hub id."""
    device: str = "auto"
    """``auto`` (cuda when available), ``cpu``, ``cuda`` or ``cuda:N``."""
    dtype: str = "float32"
    """One of :data:`DTYPES`."""
    seed: int = 0
    """Seed of the architecture's random weights and codebooks."""

    @property
    def kind(self) -> SourceKind:
        return source_kind(self.ref)


@dataclass(frozen=True)
class ModelInfo:
    """Provenance of a loaded model (goes into the key)."""

    kind: SourceKind
    ref: str
    """Hub id, folder (as given), or ``architecture``."""
    revision: str | None
    """Requested Hub revision."""
    commit: str | None
    """Hub commit the weights were loaded from (when known)."""
    weights_sha256: dict[str, str] | None
    """sha256 of each local weight file."""
    random_weights: bool
    """True for ``architecture``: nothing trained in it."""
    seed: int | None
    device: str
    dtype: str
    feature_extractor: str
    """Class of the feature extractor and where its settings came from."""
    description: str
    """One line, e.g. ``architecture (random weights, seed 0)``."""
    fixture: str | None = None
    """What the folder's :data:`FIXTURE_MARKER` says (an hw10 test checkpoint), else ``None``."""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def source_kind(ref: str) -> SourceKind:
    """``architecture``, ``local`` (an existing path or something spelt like a path) or ``hub``."""
    if ref == ARCHITECTURE:
        return "architecture"
    return "local" if looks_local(ref) else "hub"


def check_local_checkpoint(folder: Path) -> list[Path]:
    """Validate (without torch) that ``folder`` holds a Mimi checkpoint; return its weight files."""
    todo = ("pass the folder written by `save_pretrained` (or `hf download kyutai/mimi --local-dir DIR`) holding "
            "config.json and model.safetensors, or leave --mimi out to load kyutai/mimi from the Hub")
    check_checkpoint_folder(folder, "mimi", "Mimi", todo)
    weights = sorted(p for p in folder.iterdir() if p.name in WEIGHT_FILES or
                     (p.suffix == ".safetensors" and p.name.startswith("model-")))
    if not weights:
        raise ModelUnavailable(f"Mimi config but no weights (expected {' or '.join(WEIGHT_FILES)}); {todo}",
                               file=str(folder))
    return weights


def torch_dtype(name: str) -> "torch.dtype":
    """The ``torch`` dtype named by ``--dtype`` (one of ``DTYPES``); an :class:`InputError` for any other name."""
    import torch

    if name not in DTYPES:
        raise InputError(f"choose one of {', '.join(DTYPES)}", option="dtype", value=name)
    return getattr(torch, name)


def codebooks(model) -> list:
    """The codebook modules of every RVQ layer in code order (semantic first, then acoustic)."""
    q = model.quantizer
    return [layer.codebook for rvq in (q.semantic_residual_vector_quantizer, q.acoustic_residual_vector_quantizer)
            for layer in rvq.layers]


def reset_codebook_caches(model) -> None:
    """Drop the lazily cached ``embed`` of every codebook (stale after changing buffers, dtype or device)."""
    for cb in codebooks(model):
        cb._embed = None


def fill_codebooks(model, seed: int, usage: tuple[float, float] | None = None) -> None:
    """Fill every codebook with seeded N(0, 1) vectors (a random init leaves them all zero).

    With ``usage=(lo, hi)`` the ``cluster_usage`` counts are drawn uniformly from that range and
    ``embed_sum`` scaled by them, so that ``embed = embed_sum / cluster_usage`` differs from ``embed_sum``
    (as in a trained checkpoint); otherwise usage is 1."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for cb in codebooks(model):
            n, dim = cb.embed_sum.shape
            embed = torch.randn(n, dim, generator=gen)
            if usage is None:
                counts = torch.ones(n)
            else:
                lo, hi = usage
                counts = lo + (hi - lo) * torch.rand(n, generator=gen)
            cb.cluster_usage.copy_(counts.to(cb.cluster_usage.dtype))
            cb.embed_sum.copy_((embed * counts[:, None]).to(cb.embed_sum.dtype))
    reset_codebook_caches(model)


def _default_feature_extractor(sampling_rate: int):
    from transformers import EncodecFeatureExtractor

    # kyutai/mimi's preprocessor_config.json
    return EncodecFeatureExtractor(feature_size=1, sampling_rate=sampling_rate, padding_value=0.0,
                                   chunk_length_s=None, overlap=None)


def _load_local(src: MimiSource):
    from transformers import AutoFeatureExtractor, MimiModel

    folder = Path(src.ref).expanduser()
    weights = check_local_checkpoint(folder)
    try:
        model, info = MimiModel.from_pretrained(str(folder), dtype=torch_dtype(src.dtype), output_loading_info=True)
    except InputError:
        raise
    except Exception as exc:  # OSError, ValueError (size mismatch), safetensors errors…
        raise ModelUnavailable(f"cannot load as Mimi: {type(exc).__name__}: {exc}", file=str(folder)) from None
    check_loading_info(str(folder), info)
    if (folder / "preprocessor_config.json").is_file():
        fe = AutoFeatureExtractor.from_pretrained(str(folder))
        fe_desc = f"{type(fe).__name__} (preprocessor_config.json)"
    else:
        fe = _default_feature_extractor(model.config.sampling_rate)
        fe_desc = f"{type(fe).__name__} (kyutai/mimi settings; the folder has no preprocessor_config.json)"
    hashes = {p.name: _sha256(p) for p in weights}
    first = next(iter(hashes.values()))
    desc = f"local folder {src.ref} (weights sha256 {first[:12]}…)"
    fixture = fixture_note(folder)
    if fixture:
        desc += f" — {fixture}"
    return model, fe, dict(commit=None, weights_sha256=hashes, random_weights=False, seed=None,
                           feature_extractor=fe_desc, description=desc, fixture=fixture)


def _offline_message(ref: str, why: str) -> str:
    return offline_message(ref, why, "mimi", tail="; for a gated or private model set HF_TOKEN (or `hf auth login`). "
                           "`--mimi architecture` answers the structural questions without any download.")


def _load_hub(src: MimiSource):
    from huggingface_hub import HfApi
    from huggingface_hub import errors as hf_errors
    from transformers import AutoFeatureExtractor, MimiModel

    ref, rev = src.ref, src.revision
    commit: str | None = None
    unreachable: str | None = None
    try:
        commit = HfApi().model_info(ref, revision=rev, timeout=HUB_TIMEOUT_S).sha
    except hf_errors.GatedRepoError:
        raise ModelUnavailable(f"{ref} is gated: accept its terms on https://huggingface.co/{ref} and set HF_TOKEN "
                               "(or run `hf auth login`), or pass a local folder with --mimi DIR") from None
    except hf_errors.RevisionNotFoundError:
        raise ModelUnavailable(f"revision {rev!r} of {ref} does not exist on the Hub") from None
    except hf_errors.RepositoryNotFoundError:
        raise ModelUnavailable(f"no model {ref!r} on the Hugging Face Hub (if it is private, set HF_TOKEN); "
                               "a local folder must exist") from None
    except hf_errors.HFValidationError:
        raise ModelUnavailable(f"--mimi {ref!r} is neither an existing folder nor a valid Hub id "
                               "(namespace/name)") from None
    except Exception as exc:  # connection refused, DNS failure, timeout, offline mode
        unreachable = f"{type(exc).__name__}: {exc}".strip()
        log.info("Hub unreachable (%s); trying the local cache", unreachable)
    offline = unreachable is not None
    try:
        model, info = MimiModel.from_pretrained(ref, revision=commit or rev, local_files_only=offline,
                                                dtype=torch_dtype(src.dtype), output_loading_info=True)
    except InputError:
        raise
    except Exception as exc:
        if offline:
            raise ModelUnavailable(_offline_message(ref, unreachable)) from None
        raise ModelUnavailable(f"cannot load {ref} (revision {commit or rev or 'main'}) as Mimi: "
                               f"{type(exc).__name__}: {exc}") from None
    check_loading_info(ref, info)
    commit = commit or getattr(model.config, "_commit_hash", None)
    try:
        fe = AutoFeatureExtractor.from_pretrained(ref, revision=commit or rev, local_files_only=offline)
        fe_desc = f"{type(fe).__name__} ({ref})"
    except Exception as exc:  # the weights loaded; a missing preprocessor file is not fatal
        fe = _default_feature_extractor(model.config.sampling_rate)
        fe_desc = f"{type(fe).__name__} (kyutai/mimi settings; {ref}'s could not be read: {type(exc).__name__})"
    desc = f"{ref}@{(commit or rev or 'main')[:12]}" + (" (from the local cache, offline)" if offline else "")
    return model, fe, dict(commit=commit, weights_sha256=None, random_weights=False, seed=None,
                           feature_extractor=fe_desc, description=desc)


def _build_architecture(src: MimiSource):
    import torch
    from transformers import MimiConfig, MimiModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(src.seed)
        model = MimiModel(MimiConfig())
    fill_codebooks(model, src.seed)
    fe = _default_feature_extractor(model.config.sampling_rate)
    desc = (f"architecture (full-size MimiConfig(), random weights, seed {src.seed}; codebooks filled with "
            "seeded N(0,1) vectors)")
    return model, fe, dict(commit=None, weights_sha256=None, random_weights=True, seed=src.seed,
                           feature_extractor=f"{type(fe).__name__} (kyutai/mimi settings)", description=desc)


def load_mimi(src: MimiSource) -> "MimiCodec":
    """Load Mimi from ``src``; raises :class:`ModelUnavailable` (or InputError for a bad device/dtype)."""
    require_model_libraries()
    device = resolve_device(src.device)
    dtype = torch_dtype(src.dtype)
    kind = src.kind
    if kind != "hub" and src.revision:
        raise InputError(f"applies to a Hub id, not to {src.ref!r}", option="mimi_revision")
    loader = {"architecture": _build_architecture, "local": _load_local, "hub": _load_hub}[kind]
    model, fe, extra = loader(src)
    model = model.to(device=device, dtype=dtype).eval()
    reset_codebook_caches(model)
    fe_rate = getattr(fe, "sampling_rate", model.config.sampling_rate)
    if fe_rate != model.config.sampling_rate:
        raise ModelUnavailable(f"feature extractor rate {fe_rate} Hz != model rate {model.config.sampling_rate} Hz",
                               file=src.ref)
    info = ModelInfo(kind=kind, ref=src.ref, revision=src.revision, device=device, dtype=src.dtype, **extra)
    log.info("loaded Mimi: %s on %s (%s)", info.description, device, src.dtype)
    return MimiCodec(model, fe, info)


class MimiCodec:
    """A loaded Mimi with the operations the checks need; codes are ``[batch, layers, frames]`` int64."""

    def __init__(self, model, feature_extractor, info: ModelInfo):
        self.model = model
        self.feature_extractor = feature_extractor
        self.info = info

    # -- configuration -------------------------------------------------------------------------
    @property
    def config(self):
        return self.model.config

    @property
    def sampling_rate(self) -> int:
        return int(self.config.sampling_rate)

    @property
    def frame_rate(self) -> float:
        return float(self.config.frame_rate)

    @property
    def hop(self) -> int:
        """Samples per frame, from the configuration (1920 = 80 ms at 24 kHz for kyutai/mimi)."""
        return int(round(self.sampling_rate / self.frame_rate))

    @property
    def num_quantizers(self) -> int:
        return int(self.config.num_quantizers)

    @property
    def num_semantic(self) -> int:
        return int(self.config.num_semantic_quantizers)

    @property
    def codebook_size(self) -> int:
        return int(self.config.codebook_size)

    @property
    def device(self):
        return next(self.model.parameters()).device

    @property
    def dtype(self):
        return next(self.model.parameters()).dtype

    # -- audio ↔ codes --------------------------------------------------------------------------
    def _inputs(self, clips: Sequence["np.ndarray"]) -> "torch.Tensor":
        import numpy as np

        arrays = [np.asarray(c, dtype=np.float32).reshape(-1) for c in clips]
        if not arrays:
            raise ValueError("no clips to encode")
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise ValueError(f"a batch needs clips of equal length, got {sorted(lengths)} samples")
        feats = self.feature_extractor(raw_audio=arrays, sampling_rate=self.sampling_rate, return_tensors="pt")
        return feats["input_values"].to(device=self.device, dtype=self.dtype)

    def encode(self, clips: Sequence["np.ndarray"], num_quantizers: int | None = None) -> "torch.Tensor":
        """Codes ``[B, K, T]`` (on the CPU) of equal-length mono clips at :attr:`sampling_rate`."""
        return self.encode_with_latents(clips, num_quantizers)[0]

    def encode_with_latents(self, clips: Sequence["np.ndarray"], num_quantizers: int | None = None):
        """``(codes [B,K,T], latents [B,hidden,T])``: the codes and the encoder's continuous latents that the
        quantizer received (captured at the quantizer's input, whatever the transformers version)."""
        import torch

        if num_quantizers is not None and not 1 <= num_quantizers <= self.num_quantizers:
            raise ModelMismatch(f"{num_quantizers} code layers asked, but this Mimi ({self.info.description}) has "
                                f"{self.num_quantizers}")
        x = self._inputs(clips)
        quantizer = self.model.quantizer
        original = quantizer.encode
        captured: dict[str, torch.Tensor] = {}

        def spy(embeddings, *args, **kwargs):
            captured["latents"] = embeddings
            return original(embeddings, *args, **kwargs)

        quantizer.encode = spy
        try:
            with torch.inference_mode():
                out = self.model.encode(x, num_quantizers=num_quantizers)
        finally:
            del quantizer.encode
        codes = out.audio_codes if hasattr(out, "audio_codes") else out[0]
        return codes.cpu(), captured["latents"].float().cpu()

    def decode(self, codes: "torch.Tensor") -> "np.ndarray":
        """Audio ``[B, N]`` float32 at :attr:`sampling_rate` from codes ``[B, K, T]``."""
        return self._decode_with(self.model, codes)

    def _decode_with(self, model, codes: "torch.Tensor") -> "np.ndarray":
        import torch

        with torch.inference_mode():
            out = model.decode(codes.to(self.device))
        audio = out.audio_values if hasattr(out, "audio_values") else out[0]
        return audio[:, 0].float().cpu().numpy()

    def decode_as(self, codes: "torch.Tensor", dtype: str) -> "np.ndarray":
        """:meth:`decode` in ``dtype`` (``float32``, ``bfloat16``, ``float16``): with this model when it already runs
        in it, else with a copy cast to it (this model stays as it is), so a decode can be compared like with like
        with another model's decode in that dtype (q12: CSM's own codec in bfloat16)."""
        import copy

        import torch

        if getattr(torch, dtype) == self.dtype:
            return self.decode(codes)
        model = copy.deepcopy(self.model).to(dtype=torch_dtype(dtype))
        reset_codebook_caches(model)  # the copy's cached tables are in the old dtype
        return self._decode_with(model, codes)

    # -- codebooks ------------------------------------------------------------------------------
    def codebook(self, layer: int):
        """The codebook module of code layer ``layer`` (0 = semantic)."""
        books = codebooks(self.model)
        if not 0 <= layer < len(books):
            raise ModelMismatch(f"layer {layer} out of range: this Mimi has {len(books)} code layers")
        return books[layer]

    def rvq_for_layer(self, layer: int):
        """The residual quantiser (semantic or acoustic) holding code layer ``layer``."""
        return self.rvq_groups(layer + 1)[-1][0]

    def rvq_groups(self, num_layers: int) -> list[tuple[Any, range]]:
        """``[(residual quantiser, code layers it holds)]`` for the first ``num_layers`` code layers."""
        q = self.model.quantizer
        groups = [(q.semantic_residual_vector_quantizer, range(0, min(self.num_semantic, num_layers))),
                  (q.acoustic_residual_vector_quantizer, range(self.num_semantic, num_layers))]
        return [(rvq, layers) for rvq, layers in groups if len(layers) > 0]

    def codebook_vectors(self, layer: int) -> "torch.Tensor":
        """``embed_sum / cluster_usage.clamp(min=eps)`` computed afresh from the buffers (float32, CPU)."""
        cb = self.codebook(layer)
        return (cb.embed_sum.float() / cb.cluster_usage.float().clamp(min=cb.epsilon)[:, None]).cpu()

    def lookup(self, codes: "torch.Tensor") -> "torch.Tensor":
        """The quantised latent rebuilt by plain table lookup: per RVQ group, sum the codebook rows the codes
        index, then apply the group's ``output_proj``; groups summed. ``[B, hidden, T]`` float32 on the CPU."""
        import torch

        total = None
        with torch.inference_mode():
            for rvq, layers in self.rvq_groups(codes.shape[1]):
                s = sum(self.codebook_vectors(i)[codes[:, i]] for i in layers)  # [B, T, dim]
                s = s.transpose(1, 2)
                if rvq.output_proj is not None:
                    w = rvq.output_proj.weight.float().cpu()[:, :, 0]  # [hidden, dim]
                    s = torch.einsum("hd,bdt->bht", w, s)
                total = s if total is None else total + s
        return total

    def quantized_latent(self, codes: "torch.Tensor") -> "torch.Tensor":
        """What the model's own quantizer makes of ``codes`` (the decoder's input), float32 on the CPU."""
        import torch

        with torch.inference_mode():
            return self.model.quantizer.decode(codes.to(self.device)).float().cpu()

    def nearest_codes(self, latents: "torch.Tensor", num_quantizers: int,
                      follow: "torch.Tensor | None" = None) -> "torch.Tensor":
        """Residual vector quantisation re-done here from the codebook tables (float32, CPU): per layer, the index
        of the nearest codebook row to the residual (squared Euclidean distance), then subtract a row: the one
        found here, or with ``follow`` (codes ``[B, K, T]``) the one those codes chose, so that each layer is
        checked on the residual the model itself left (one near-tie does not cascade into the later layers)."""
        import torch

        out = []
        with torch.inference_mode():
            for rvq, layers in self.rvq_groups(num_quantizers):
                residual = latents.float().cpu()
                if rvq.input_proj is not None:
                    w = rvq.input_proj.weight.float().cpu()[:, :, 0]  # [dim, hidden]
                    residual = torch.einsum("dh,bht->bdt", w, residual)
                residual = residual.transpose(1, 2)  # [B, T, dim]
                for i in layers:
                    table = self.codebook_vectors(i)  # [n, dim]
                    d = (residual ** 2).sum(-1, keepdim=True) - 2 * residual @ table.T + (table ** 2).sum(-1)
                    idx = d.argmin(-1)  # [B, T]
                    out.append(idx)
                    residual = residual - table[idx if follow is None else follow[:, i].cpu()]
        return torch.stack(out, dim=1)
