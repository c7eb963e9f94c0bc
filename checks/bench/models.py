"""``hw10 bench`` stages of the model adapters: Mimi encode+decode (one clip per call against ours) and CSM
generation speed (the tiny CSM fixture here; csm-1b where a GPU and its weights exist)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from checks.bench.stage import ASSETS, StageResult, architecture, fixture_script, speechlike, timed
from checks.models.batch_encode import encode_batched
from checks.models.batching import decode_many, items_per_call
from checks.models.csm import CsmInfo, CsmRunner, CsmRunOptions, CsmSource, Generation, Turn, cpu_kernels, load_csm
from checks.models.mimi import fill_codebooks, reset_codebook_caches
from checks.questions.conversation import slide_turns
from checks.timing import PartClock, part
from grader.spec import load_bank


def bench_mimi(device: str = "cpu", clips: int = 8, seconds: float = 4.0) -> StageResult:
    """Encode + decode ``clips`` clips of the full-size Mimi architecture: one clip per call (naive) against
    ours, batched as :mod:`checks.models.batching` does on this device (all in one call on a GPU, one per call on a
    CPU, where both sides therefore do the same work)."""
    import torch

    codec = architecture(device)
    audio = speechlike(clips, seconds, codec.sampling_rate)
    codec.decode(codec.encode(audio[:1]))  # warm-up
    naive_parts, ours_parts = PartClock(), PartClock()
    per_call = items_per_call(codec, clips)

    def naive():
        for a in audio:
            with part(naive_parts, "encode"):
                codes = codec.encode([a])
            with part(naive_parts, "decode"):
                codec.decode(codes)

    def ours():
        with part(ours_parts, "encode"):
            codes = torch.stack(encode_batched(codec, audio, codec.num_quantizers, per_call))
        with part(ours_parts, "decode"):
            decode_many(codec, codes)

    naive_s, ours_s = timed(naive), timed(ours)
    total = clips * seconds
    return StageResult(f"Mimi encode+decode {clips}×{seconds:g} s", naive_s, ours_s,
                       f"ours {ours_parts.text()} ({per_call} per call); naive {naive_parts.text()}; "
                       f"{total / naive_s:.1f} → {total / ours_s:.1f} s of audio per s; torch threads "
                       f"{torch.get_num_threads()}", codec.info.device)


@dataclass(frozen=True)
class GenerationTiming:
    """Speed and memory of CSM generating the slide conversation's reply (for ``hw10 bench``)."""

    model: str
    """The loaded model's description."""
    device: str
    """Where it ran."""
    dtype: str
    """The dtype it ran in."""
    load_s: float
    """Seconds to load model and processor."""
    runs: int
    """Seeded generations timed (seeds 0…runs-1); the first is a warm-up, not counted, when runs > 1."""
    frames: int
    """Frames decoded over the counted runs."""
    audio_seconds: float
    """Seconds of audio produced over the counted runs."""
    generate_s: float
    """Wall seconds of the counted ``generate`` calls (prompt encoding, sampling, decoding)."""
    peak_rss_mb: float
    """Peak resident memory of this process so far (call in a fresh process for a clean figure)."""
    peak_gpu_mb: float | None
    """Peak CUDA memory allocated (None on the CPU)."""

    @property
    def seconds_per_audio_second(self) -> float | None:
        return None if self.audio_seconds <= 0 else self.generate_s / self.audio_seconds

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds_per_audio_second": self.seconds_per_audio_second}


def time_generation(source: CsmSource, turns: Sequence[Turn] | None = None, *, assets: Path | None = None,
                    max_new_tokens: int = 125, runs: int = 2) -> GenerationTiming:
    """Load CSM from ``source`` and time ``runs`` seeded generations of the slide conversation.

    ``turns`` default to q11's conversation with the clips from ``assets`` (default: the committed
    stand-ins in ``fixtures/assets``). Peak memory is this process's: run it in a fresh process."""
    import resource

    import torch

    start = time.perf_counter()
    runner = load_csm(source)
    load_s = time.perf_counter() - start
    if turns is None:
        turns = slide_turns(assets or ASSETS, runner.sampling_rate)
    inputs = runner.prepare(turns)
    cuda = runner.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(runner.device)
    gens = [runner.generate(inputs, seed=s, max_new_tokens=max_new_tokens) for s in range(max(1, runs))]
    counted = gens[1:] if len(gens) > 1 else gens
    hop = round(runner.sampling_rate / float(runner.codec_config.frame_rate))
    frames = sum(g.audio_frames for g in counted)
    return GenerationTiming(
        model=runner.info.description, device=str(runner.device), dtype=runner.info.dtype, load_s=load_s,
        runs=len(counted), frames=frames, audio_seconds=frames * hop / runner.sampling_rate,
        generate_s=sum(g.wall_s for g in counted),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        peak_gpu_mb=torch.cuda.max_memory_allocated(runner.device) / 2**20 if cuda else None)


def bench_csm(device: str = "cpu", max_new_tokens: int = 125) -> StageResult:
    """Time per generated second of audio for the tiny CSM fixture (csm-1b where a GPU and weights exist)."""
    fixture = fixture_script("make_csm_fixture").ensure_tiny_csm()
    t = time_generation(CsmSource(ref=str(fixture.csm), device=device), max_new_tokens=max_new_tokens, runs=2)
    per_second = t.generate_s / t.audio_seconds if t.audio_seconds else float("nan")
    return StageResult(f"CSM generate ({t.frames} frames)", None, t.generate_s,
                       f"{per_second:.2f} s per generated audio second; load {t.load_s:.1f} s; {t.model}", t.device)


def full_size_csm_runner(device: str = "cpu", *, fast_cpu_kernels: bool = True, codec=None):
    """A :class:`checks.models.csm.CsmRunner` with csm-1b's dimensions (``CsmConfig()``'s backbone and depth decoder,
    1.6 B parameters) and seeded random weights, around the tiny fixture's tokenizer and processor: real for the
    cost of a frame, not for what it says (random weights never stop: generation runs to ``max_new_tokens``).
    ``fast_cpu_kernels=False`` leaves PyTorch's default linear kernels (what :func:`load_csm` replaces on a CPU).

    Its codec (``codec_model``, a full-size Mimi) gets the weights of ``codec`` (a loaded standalone Mimi,
    :class:`checks.models.mimi.MimiCodec`), copied as csm-1b holds its own copy of kyutai/mimi's, so that q12
    compares like with like; without one, seeded N(0, 1) codebooks. Never a random init's all-zero codebooks:
    every prompt would encode to code 0, CSM's end code, and every reply decode to the same sound."""
    import torch
    from transformers import CsmConfig, CsmForConditionalGeneration, MimiConfig

    make = fixture_script("make_csm_fixture")
    tokenizer = make.make_tokenizer()
    processor = make.make_processor(tokenizer)
    ids = tokenizer.convert_tokens_to_ids
    config = CsmConfig(bos_token_id=ids(make.BOS), pad_token_id=ids(make.AUDIO), audio_token_id=ids(make.AUDIO),
                       audio_eos_token_id=ids(make.AUDIO_EOS), codebook_pad_token_id=2050, codebook_eos_token_id=0,
                       codec_config=MimiConfig().to_dict())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = CsmForConditionalGeneration(config).eval()
    shared = codec_weights(model.codec_model, codec)
    model = model.to(device)
    for gc in (model.generation_config, model.depth_decoder.generation_config):
        gc.do_sample, gc.top_k, gc.temperature = True, 50, 0.9
        gc.suppress_tokens = list(make.NOT_MIMI_CODES)
    params = sum(p.numel() for p in model.parameters())
    info = CsmInfo(kind="local", ref="architecture", revision=None, commit=None, weights_sha256=None, device=device,
                   dtype="float32", token=None, fixture="random weights",
                   description=f"CsmConfig() dimensions, {params / 1e9:.2f} B parameters, random weights; {shared}",
                   linear_kernels=cpu_kernels(model) if fast_cpu_kernels else None)
    return CsmRunner(model, processor, info, CsmRunOptions())


def codec_weights(codec_model, codec=None) -> str:
    """Give CSM's ``codec_model`` the weights of ``codec`` (a loaded standalone Mimi), copied; without one, seeded
    N(0, 1) codebooks instead of a random init's zeros. Returns what it did, for the model's description."""
    if codec is None:
        fill_codebooks(codec_model, 0)
        return "its codec random (seeded N(0, 1) codebooks)"
    codec_model.load_state_dict(codec.model.state_dict())
    reset_codebook_caches(codec_model)
    return f"its codec the standalone Mimi's weights ({codec.info.description})"


def bench_q11(device: str = "cpu", samples: int | None = None, frames: int = 25) -> list[StageResult]:
    """q11's replies with csm-1b's dimensions and the slide's conversation (with its clips) as the prompt, ``frames``
    frames each (25 = 2 s; q11 asks for up to 125), ``samples`` of them (default: q11.yaml's ``samples``). Two rows:
    the batch with PyTorch's default linear kernels against oneDNN's (:mod:`checks.models.cpu_linear`, what the key
    uses on a CPU; on a GPU nothing changes and the row is left out), then the replies generated one at a time (the
    Colab's loop, each with its own run of the prompt) against one batched call, both with the key's kernels."""
    n = samples or int(load_bank()["q11"].thresholds["samples"])
    runner = full_size_csm_runner(device, fast_cpu_kernels=False)
    inputs = runner.prepare(slide_turns(ASSETS, runner.sampling_rate))
    runner.generate(inputs, seed=99, max_new_tokens=1)  # warm-up
    rows = []
    batch: list[Generation] = []
    if device == "cpu":
        default = timed(lambda: runner.generate_batch(inputs, seed=0, n=n, max_new_tokens=frames))
        kernels = cpu_kernels(runner.model)  # what load_csm does on a CPU
    ours = timed(lambda: batch.extend(runner.generate_batch(inputs, seed=0, n=n, max_new_tokens=frames)))
    if device == "cpu":
        rows.append(StageResult(f"CSM batch of {n} × {frames} frames: linear kernels", default, ours,
                                f"PyTorch's default (MKL) vs {kernels}", device))
    one: list[Generation] = []
    naive = timed(lambda: one.extend(runner.generate(inputs, seed=s, max_new_tokens=frames) for s in range(n)))
    got = sum(g.audio_frames for g in batch)
    shared = "prompt run once" if batch and all(g.shared_prompt for g in batch) else "prompt repeated"
    rows.append(StageResult(f"q11: {n} replies × {frames} frames, full-size CSM", naive, ours,
                            f"one at a time vs one batch ({got} frames, {shared}); {runner.info.description}", device))
    return rows
