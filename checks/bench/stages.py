"""The stages of ``hw10 bench`` that need the model extras, by name, and the child-process entry point.

``python -m checks.bench STAGE [--device D]`` runs one stage and prints its rows as JSON lines, so the parent
(:mod:`grader.bench`) can add the child's peak memory.
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict
from functools import partial
from typing import Callable

from checks.bench.key import bench_key
from checks.bench.key_real import bench_key_real_size
from checks.bench.layers import bench_q09_stage, bench_q10_stage
from checks.bench.models import bench_csm, bench_mimi, bench_q11
from checks.bench.q06 import bench_pesq, bench_q06_encode, bench_umap
from checks.bench.stage import StageResult

STAGES: dict[str, Callable[..., StageResult | list[StageResult]]] = {
    "mimi": bench_mimi, "q06_encode": bench_q06_encode, "umap": bench_umap, "pesq": bench_pesq,
    "q09": bench_q09_stage, "q10": bench_q10_stage, "csm": bench_csm, "q11": bench_q11, "key": bench_key,
    "key_real": bench_key_real_size, "key_real_fw": partial(bench_key_real_size, asr="faster-whisper")}
"""Stage name → function (kept equal to :data:`grader.bench.MODEL_STAGES` by a test)."""


def main(argv: list[str] | None = None) -> int:
    """Run one stage (``argv``: ``STAGE [--device D]``) and print its rows, one JSON line each."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in STAGES:
        print(f"usage: python -m checks.bench {{{','.join(STAGES)}}} [--device D]", file=sys.stderr)
        return 2
    device = argv[argv.index("--device") + 1] if "--device" in argv else "cpu"
    result = STAGES[argv[0]](device=device)
    for row in result if isinstance(result, list) else [result]:
        print(json.dumps(asdict(row)))
    return 0
