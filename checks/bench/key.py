"""``hw10 bench`` stage of a whole key run: every question on the fixtures, cold cache against warm cache."""
from __future__ import annotations

import tempfile
from pathlib import Path

from checks.bench.stage import ASSETS, StageResult, fixture_script, timed
from checks.pipeline.options import KeyRunOptions
from checks.pipeline.run import compute_key
from grader.key import dump_key
from grader.spec import load_bank


def bench_key(device: str = "cpu") -> StageResult:
    """A whole key run (what `hw10 key` computes and writes, without its terminal output) over all twelve
    questions on the fixtures: cold cache against warm cache."""
    fixture = fixture_script("make_csm_fixture").ensure_tiny_csm()
    bank = load_bank()
    with tempfile.TemporaryDirectory() as tmp:
        opts = KeyRunOptions(mimi=str(fixture.mimi), csm=str(fixture.csm), asr="faster-whisper:tiny.en-bundled",
                             assets=ASSETS, per_class=6, device=device, cache=f"{tmp}/cache",
                             evidence_dir=f"{tmp}/evidence")
        out = Path(tmp) / "key.yaml"
        runs = []

        def run() -> None:
            runs.append(compute_key(opts, bank))
            out.write_text(dump_key(runs[-1].key), encoding="utf-8")

        cold = timed(run)
        warm = timed(run)
    outcomes = runs[-1].outcomes
    n_computed = sum(1 for o in outcomes if o.status == "computed")
    hits = runs[-1].cache_hits
    return StageResult("hw10 key, all 12 questions (fixtures)", cold, warm,
                       f"naive = cold cache, ours = warm cache; {n_computed} computed, {len(outcomes) - n_computed} "
                       f"pending; {len(hits)} reused from the cache ({', '.join(hits)})", device)
