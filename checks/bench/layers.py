"""``hw10 bench`` stages for the layer-surgery checks: the Colab way against ours, in one run.

* q09: 24 layer orders decoded and transcribed one at a time (naive, as a Colab loop would) against
  ours: the decodes batched as the device likes best (one call on a GPU, one per call on a CPU, see
  :mod:`checks.models.batching`; ``decode_batch`` overrides) and one batched ASR call
  (:func:`checks.questions.q09_shuffled.naive_transcripts` / ``batched_transcripts``);
* q10: 9 splits decoded, transcribed and speaker-embedded one at a time against ours, the same way
  (:func:`checks.questions.q10_splices.naive_splits` / ``batched_splits``).

Each row's note splits both sides' time into their parts (decode, ASR, speaker), so the table shows
where the time goes: on a CPU the decodes dominate and cost the same either way.

Both sides run on the same loaded models in the same process, after one warm-up call of each model
(a decode, a transcription, a speaker embedding), ours first; model loading is in neither time. Peak memory
is the process's maximum resident set size so far (models included). Wiring into ``hw10 bench --stages``
belongs to hw10/cli.py.
"""
from __future__ import annotations

import os
import resource
import time
from pathlib import Path

from checks.audio import load_audio
from checks.bench.stage import ASSETS, StageResult, architecture
from checks.models.asr import AsrOptions, load_asr
from checks.models.batching import describe_batch
from checks.models.speaker import load_speaker_encoder
from checks.questions.layers import all_orders, load_codes_file, orders_batch
from checks.questions.q09_shuffled import batched_transcripts, naive_transcripts
from checks.questions.q10_splices import batched_splits, naive_splits
from checks.timing import PartClock
from grader.bench import BenchRow


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm_up(codec, asr, codes) -> None:
    """One decode and one transcription before anything is timed (first calls pay one-off set-up costs)."""
    asr.transcribe([codec.decode(codes)[0]], rate=codec.sampling_rate)


def _parts(ours: PartClock, naive: PartClock) -> str:
    return f"ours {ours.text()}; naive {naive.text()}"


def bench_q09(codec, asr, codes_file: Path, n_layers: int = 4, codebook_size: int = 2048,
              decode_batch: int | None = None) -> BenchRow:
    """Time the 24-order search on ``codes_file`` both ways (``decode_batch``: as in
    :func:`checks.models.batching.decode_many`)."""
    shuffled = load_codes_file(codes_file, n_layers, codebook_size).codes
    orders = all_orders(n_layers)
    _warm_up(codec, asr, orders_batch(shuffled, orders[:1]))
    ours_parts, naive_parts = PartClock(), PartClock()
    t0 = time.perf_counter()
    batched_transcripts(codec, asr, shuffled, orders, decode_batch, clock=ours_parts)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_transcripts(codec, asr, shuffled, orders, clock=naive_parts)
    naive = time.perf_counter() - t0
    return BenchRow(f"q09 {len(orders)} orders decode+ASR ({describe_batch(codec, len(orders), decode_batch)})",
                    ours, _peak_mb(), naive,
                    note=f"{_parts(ours_parts, naive_parts)}; {codes_file.name} {list(shuffled.shape)}; "
                         f"{os.cpu_count()} CPUs")


def bench_q10(codec, asr, encoder, alice: Path, james: Path, n_layers: int = 8,
              decode_batch: int | None = None) -> BenchRow:
    """Time the 9 splits (decode + ASR + speaker embedding) both ways, the originals riding along."""
    a = load_audio(alice, codec.sampling_rate).samples
    j = load_audio(james, codec.sampling_rate).samples
    n = min(len(a), len(j))
    codes = codec.encode([a[:n], j[:n]], num_quantizers=n_layers)
    _warm_up(codec, asr, codes[:1])
    encoder.embed([a[:n]], rate=codec.sampling_rate)
    ours_parts, naive_parts = PartClock(), PartClock()
    t0 = time.perf_counter()
    batched_splits(codec, asr, encoder, codes, extra_clips=[a[:n], j[:n]], decode_batch=decode_batch,
                   clock=ours_parts)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_splits(codec, asr, encoder, codes, extra_clips=[a[:n], j[:n]], clock=naive_parts)
    naive = time.perf_counter() - t0
    splits = n_layers + 1
    return BenchRow(f"q10 {splits} splits +ASR+spk ({describe_batch(codec, splits, decode_batch)})", ours,
                    _peak_mb(), naive,
                    note=f"{_parts(ours_parts, naive_parts)}; {n / codec.sampling_rate:.2f} s clips; "
                         f"{os.cpu_count()} CPUs")


def _layer_stage(which: str, device: str) -> StageResult:
    """q09 (24 orders) or q10 (9 splits): the Colab way (one decode + transcription at a time) against
    ours (one batched decode, one batched ASR), full-size Mimi architecture and tiny.en."""
    assets = ASSETS
    codec = architecture(device)
    asr = load_asr("faster-whisper:tiny.en-bundled", AsrOptions(device=device if device != "auto" else "cpu"))
    if which == "q09":
        row = bench_q09(codec, asr, assets / "audio_codes_shuffled.pt")
    else:
        row = bench_q10(codec, asr, load_speaker_encoder("resemblyzer", device=device), assets / "alice.wav",
                        assets / "james.wav")
    return StageResult(row.stage, row.naive_s, row.ours_s, row.note, codec.info.device)


def bench_q09_stage(device: str = "cpu") -> StageResult:
    """The q09 stage: 24 layer orders decoded and transcribed one at a time against ours (see :func:`_layer_stage`)."""
    return _layer_stage("q09", device)


def bench_q10_stage(device: str = "cpu") -> StageResult:
    """The q10 stage: 9 splits decoded, transcribed and embedded one at a time against ours (see
    :func:`_layer_stage`)."""
    return _layer_stage("q10", device)


