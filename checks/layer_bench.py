"""``hw10 bench`` stages for the layer-surgery checks: the Colab way against ours, in one run.

* q09: 24 layer orders decoded and transcribed one at a time (naive, as a Colab loop would) against one
  batched decode and one batched ASR call (:func:`checks.q09_shuffled.naive_transcripts` /
  ``batched_transcripts``; ``decode_batch`` caps the decode batch, see :mod:`checks.decoding`);
* q10: 9 splits decoded, transcribed and speaker-embedded one at a time against one batch each
  (:func:`checks.q10_splits.naive_splits` / ``batched_splits``).

Both sides run on the same loaded models in the same process, ours first, so any warm-up benefit goes
to the naive side; model loading is in neither time. Peak memory is the process's maximum resident set
size so far (models included). Wiring into ``hw10 bench --stages`` belongs to grader/cli.py.
"""
from __future__ import annotations

import os
import resource
import time
from pathlib import Path

from grader.bench import BenchRow


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _batch_text(decode_batch: int | None) -> str:
    return "decode in 1 call" if decode_batch is None else f"decode {decode_batch}/call"


def bench_q09(codec, asr, codes_file: Path, n_layers: int = 4, codebook_size: int = 2048,
              decode_batch: int | None = None) -> BenchRow:
    """Time the 24-order search on ``codes_file`` both ways (``decode_batch``: as in
    :func:`checks.decoding.decode_many`)."""
    from .layers import all_orders, load_codes_file
    from .q09_shuffled import batched_transcripts, naive_transcripts

    shuffled = load_codes_file(codes_file, n_layers, codebook_size).codes
    orders = all_orders(n_layers)
    t0 = time.perf_counter()
    batched_transcripts(codec, asr, shuffled, orders, decode_batch)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_transcripts(codec, asr, shuffled, orders)
    naive = time.perf_counter() - t0
    return BenchRow(f"q09 {len(orders)} orders decode+ASR ({_batch_text(decode_batch)})", ours, _peak_mb(),
                    naive,
                    note=f"{codes_file.name} {list(shuffled.shape)}; Mimi {codec.info.description[:40]}; "
                         f"{os.cpu_count()} CPUs")


def bench_q10(codec, asr, encoder, alice: Path, james: Path, n_layers: int = 8,
              decode_batch: int | None = None) -> BenchRow:
    """Time the 9 splits (decode + ASR + speaker embedding) both ways, the originals riding along."""
    from .audio import load_audio
    from .q10_splits import batched_splits, naive_splits

    a = load_audio(alice, codec.sampling_rate).samples
    j = load_audio(james, codec.sampling_rate).samples
    n = min(len(a), len(j))
    codes = codec.encode([a[:n], j[:n]], num_quantizers=n_layers)
    t0 = time.perf_counter()
    batched_splits(codec, asr, encoder, codes, extra_clips=[a[:n], j[:n]], decode_batch=decode_batch)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_splits(codec, asr, encoder, codes, extra_clips=[a[:n], j[:n]])
    naive = time.perf_counter() - t0
    return BenchRow(f"q10 {n_layers + 1} splits +ASR+spk ({_batch_text(decode_batch)})", ours, _peak_mb(), naive,
                    note=f"{n / codec.sampling_rate:.2f} s clips; Mimi {codec.info.description[:40]}; "
                         f"{os.cpu_count()} CPUs")
