"""``hw10 bench`` stages for q06–q08, shaped like :mod:`checks.bench.stages`'s (register them in its ``STAGES``):

* :func:`bench_q06_encode` — q06's encoding of N clips of different lengths with the full-size Mimi
  architecture, one clip per call (:func:`checks.models.batch_encode.encode_naive`, as a Colab does) against
  batches (:func:`checks.models.batch_encode.encode_batched`); the note says whether the codes were identical.
* :func:`bench_umap` — one UMAP fit of q06's size (clips × 256-d), after the first fit of the process
  (numba compilation), which the note reports.
* :func:`bench_pesq` — wideband PESQ of one clip (q07/q08 score four clips plus their windows).

Measured on the 2-core CPU of the development machine (busy with other work, so noisy): 30 EmoV-DB
replica clips (36 s of audio), 32 layers, one torch thread: 4.0 s one at a time, 5.8 s in batches of 16
(0.7×: on a CPU, padding is extra work; with two threads on the busy machine 30.6 s vs 13.5 s); UMAP
first fit 8–14 s, then 0.27 s for 200×256; PESQ 28–74 ms for 3–6.6 s clips.
"""
from __future__ import annotations

import time

from checks.bench.stage import StageResult, architecture, timed
from checks.evidence import threshold
from checks.metrics.clusters import umap_2d
from checks.metrics.quality import pesq_wb
from checks.models.batch_encode import bench_encoding
from checks.models.batching import items_per_call
from checks.questions.signals import probe_signal
from grader.spec import load_bank


def _clips(n: int, rate: int, seed: int = 0):
    """``n`` seeded speech-like clips of 1–3 s (different lengths, as EmoV-DB's)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [probe_signal(float(rng.uniform(1.0, 3.0)), rate, seed + i)[0] for i in range(n)]


def bench_q06_encode(device: str = "cpu", clips: int = 30, batch_size: int | None = None) -> StageResult:
    """q06's encodes one clip per call against ours: ``batch_size`` per call, by default what q06 does on this
    device (:func:`checks.models.batching.items_per_call` with the spec's ``encode_batch_size``)."""
    codec = architecture(device)
    audio = _clips(clips, codec.sampling_rate)
    spec_batch = int(threshold(load_bank()["q06"], "encode_batch_size"))
    batch = items_per_call(codec, clips, batch_size, accelerator_batch=spec_batch)
    codec.encode(audio[:1])  # warm-up
    r = bench_encoding(codec, audio, codec.num_quantizers, batch_size=batch)
    return StageResult(f"q06 encode {clips} clips ({r.seconds_of_audio:.0f} s)", r.naive_s, r.batched_s,
                       f"ours {batch} clip(s) per call (q06 on {codec.info.device}; {spec_batch} on a GPU); codes "
                       f"identical: {r.identical}", codec.info.device)


def bench_umap(device: str = "cpu", points: int = 200, dim: int = 256) -> StageResult:
    """One UMAP fit of ``points`` × ``dim`` random vectors, timed after a first fit that pays numba's compilation
    (reported in the note); no naive side."""
    import numpy as np

    x = np.random.default_rng(0).normal(size=(points, dim))
    t = time.perf_counter()
    umap_2d(x, 0, 15, 0.1, "euclidean")
    first = time.perf_counter() - t
    ours = timed(lambda: umap_2d(x, 1, 15, 0.1, "euclidean"))
    return StageResult(f"q06 UMAP {points}×{dim}", None, ours, f"first fit of the process {first:.1f} s "
                       "(numba compilation)", "cpu")


def bench_pesq(device: str = "cpu", seconds: float = 5.0) -> StageResult:
    """Wideband PESQ of one ``seconds`` generated clip against a slightly noisy copy, best of 3; no naive side."""
    import numpy as np

    x = probe_signal(seconds, 16000, 0)[0]
    y = (x + 0.01 * np.random.default_rng(1).normal(size=x.size)).astype(np.float32)
    ours = timed(lambda: pesq_wb(x, y, 16000), repeat=3)
    return StageResult(f"q07/q08 PESQ wb, one {seconds:g} s clip", None, ours, "per clip", "cpu")
