"""Model stages of ``hw10 bench``: naive (one item at a time, as a Colab would) against ours
(batched, cached), measured side by side in one run. Run as ``python -m checks.bench STAGE``;
prints one JSON row per stage so the parent can add the child's peak memory.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageResult:
    stage: str
    naive_s: float | None
    ours_s: float
    note: str
    device: str


def _timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall time of ``repeat`` runs (after the caller's warm-up)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _architecture(device: str):
    from .mimi import MimiSource, load_mimi

    return load_mimi(MimiSource(ref="architecture", device=device, dtype="float32", seed=0))


def _speechlike(n: int, seconds: float, rate: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    clips = []
    for i in range(n):
        f0 = 110 + 20 * i
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
        clips.append((0.1 * x + 0.01 * rng.standard_normal(t.size)).astype(np.float32))
    return clips


def bench_mimi(device: str = "cpu", clips: int = 8, seconds: float = 4.0) -> StageResult:
    """Encode + decode ``clips`` clips of the full-size Mimi architecture: one clip per call (naive) against
    ours, batched as :mod:`checks.batching` does on this device (all in one call on a GPU, one per call on a
    CPU, where both sides therefore do the same work)."""
    import torch

    from .batch_encode import encode_batched
    from .batching import decode_many, items_per_call
    from .timing import PartClock, part

    codec = _architecture(device)
    audio = _speechlike(clips, seconds, codec.sampling_rate)
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

    naive_s, ours_s = _timed(naive), _timed(ours)
    total = clips * seconds
    return StageResult(f"Mimi encode+decode {clips}×{seconds:g} s", naive_s, ours_s,
                       f"ours {ours_parts.text()} ({per_call} per call); naive {naive_parts.text()}; "
                       f"{total / naive_s:.1f} → {total / ours_s:.1f} s of audio per s; torch threads "
                       f"{torch.get_num_threads()}", codec.info.device)


def fixture_script(name: str):
    """A script of the repository's fixtures/ folder (``make_csm_fixture`` …), imported by path and registered
    in ``sys.modules`` (its dataclasses need that); bench and the tests run from a checkout."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures" / f"{name}.py"
    if not path.exists():
        raise RuntimeError(f"{path} not found: run hw10 bench from a checkout of the repository")
    spec = importlib.util.spec_from_file_location(f"hw10_fixture_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def bench_csm(device: str = "cpu", max_new_tokens: int = 125) -> StageResult:
    """Time per generated second of audio for the tiny CSM fixture (csm-1b where a GPU and weights exist)."""
    from .csm import CsmSource, time_generation

    fixture = fixture_script("make_csm_fixture").ensure_tiny_csm()
    t = time_generation(CsmSource(ref=str(fixture.csm), device=device), max_new_tokens=max_new_tokens, runs=2)
    per_second = t.generate_s / t.audio_seconds if t.audio_seconds else float("nan")
    return StageResult(f"CSM generate ({t.frames} frames)", None, t.generate_s,
                       f"{per_second:.2f} s per generated audio second; load {t.load_s:.1f} s; {t.model}", t.device)


def bench_key(device: str = "cpu") -> StageResult:
    """A whole `hw10 key` over all twelve questions on the fixtures: cold cache against warm cache."""
    import contextlib
    import io
    import tempfile
    from pathlib import Path

    from grader.cli import main as hw10

    fixture = fixture_script("make_csm_fixture").ensure_tiny_csm()
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        args = ["key", "--mimi", str(fixture.mimi), "--csm", str(fixture.csm), "--asr", "faster-whisper:tiny.en-bundled",
                "--assets", str(root / "fixtures" / "assets"), "--per-class", "6", "--device", device,
                "--cache", f"{tmp}/cache", "--evidence-dir", f"{tmp}/evidence", "--out", f"{tmp}/key.yaml"]
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(io.StringIO()):
            cold = _timed(lambda: hw10(args))
            warm = _timed(lambda: hw10(args))
        last = [ln for ln in sink.getvalue().splitlines() if ln.startswith("wrote")][-1]
    summary = "; ".join(part for part in last.split(": ", 1)[-1].split("; ") if not part.startswith("evidence in "))
    return StageResult("hw10 key, all 12 questions (fixtures)", cold, warm,
                       f"naive = cold cache, ours = warm cache; {summary}", device)


def _layer_stage(which: str, device: str) -> StageResult:
    """q09 (24 orders) or q10 (9 splits): the Colab way (one decode + transcription at a time) against
    ours (one batched decode, one batched ASR), full-size Mimi architecture and tiny.en."""
    from pathlib import Path

    from .asr import AsrOptions, load_asr
    from .layer_bench import bench_q09, bench_q10

    assets = Path(__file__).resolve().parents[1] / "fixtures" / "assets"
    codec = _architecture(device)
    asr = load_asr("faster-whisper:tiny.en-bundled", AsrOptions(device=device if device != "auto" else "cpu"))
    if which == "q09":
        row = bench_q09(codec, asr, assets / "audio_codes_shuffled.pt")
    else:
        from .speaker import load_speaker_encoder

        row = bench_q10(codec, asr, load_speaker_encoder("resemblyzer", device=device), assets / "alice.wav",
                        assets / "james.wav")
    return StageResult(row.stage, row.naive_s, row.ours_s, row.note, codec.info.device)


def bench_q09_stage(device: str = "cpu") -> StageResult:
    return _layer_stage("q09", device)


def bench_q10_stage(device: str = "cpu") -> StageResult:
    return _layer_stage("q10", device)


STAGES: dict[str, Callable[..., StageResult]] = {"mimi": bench_mimi, "q09": bench_q09_stage, "q10": bench_q10_stage,
                                                 "csm": bench_csm, "key": bench_key}


def all_stages() -> dict[str, Callable[..., StageResult]]:
    """These stages plus the per-question ones defined next to their checks (imported lazily:
    they import this module)."""
    from checks.q06_bench import STAGES as q06

    return {**STAGES, **q06}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stages = all_stages()
    if not argv or argv[0] not in stages:
        print(f"usage: python -m checks.bench {{{','.join(stages)}}} [--device D]", file=sys.stderr)
        return 2
    device = argv[argv.index("--device") + 1] if "--device" in argv else "cpu"
    print(json.dumps(asdict(stages[argv[0]](device=device))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
