"""`hw10 bench`: measured speed, never asserted in tests. Here: grading a large synthetic class.

Each stage runs in a child process so its peak memory (max RSS) is its own. Model stages
(encode/decode/ASR, naive against batched) are added by the checks package.
"""
from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from grader.key import write_key
from grader.scoring import score_question
from grader.spec import load_bank
from grader.synthetic import as_typed_in_canvas, build_class

MODEL_STAGES = ("mimi", "q06_encode", "umap", "pesq", "q09", "q10", "csm", "q11", "key")
"""Stages run by ``python -m checks.bench`` (kept equal to ``checks.bench.stages.all_stages()`` by a test)."""
STAGES = ("grade", *MODEL_STAGES)


def unknown_stages(stages: list[str]) -> list[str]:
    """The names in ``stages`` that are not ``hw10 bench`` stages (:data:`STAGES`), in the order given."""
    return [s for s in stages if s not in STAGES]


@dataclass(frozen=True)
class BenchRow:
    stage: str
    ours_s: float
    """Wall time of our implementation."""
    peak_mb: float
    """Peak resident memory of the process that ran it."""
    naive_s: float | None = None
    """Wall time of the naive way, measured in the same run (None when there is no naive counterpart)."""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.naive_s is None or self.ours_s <= 0 else self.naive_s / self.ours_s


def _run_child(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of a child Python process.

    The child is started through a small wrapper that reports its own ``ru_maxrss`` at exit, so
    each stage's peak memory is its own (RUSAGE_CHILDREN would be the max over all children)."""
    wrapper = ("import resource, runpy, sys, atexit\n"
               "atexit.register(lambda: sys.stderr.write('\\nHW10_MAXRSS_KB=%d\\n' % "
               "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
               "sys.argv = sys.argv[1:]\n"
               "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n")
    module, rest = args[1], args[2:]
    assert args[0] == "-m", args
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", wrapper, module, *rest], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"bench child failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    kb = [int(line.split("=", 1)[1]) for line in proc.stderr.splitlines() if line.startswith("HW10_MAXRSS_KB=")]
    return wall, (kb[-1] / 1024 if kb else float("nan")), proc.stdout


def bare_scorer(export: bytes, bank, key) -> dict[str, Fraction]:
    """The naive way, for comparison only: the csv module, choice texts looked up exactly as the synthetic class
    typed them, the scoring rule, the latest attempt; no encodings, no fuzzy matching, no checks, no outputs.
    Returns each student's total."""
    texts = {s.id: {as_typed_in_canvas(o.text, False): o.id for o in s.options} for s in bank}
    texts["q07"].update({t.replace(", ", "，"): x for t, x in texts["q07"].items()})
    rows = csv.reader(io.StringIO(export.decode("utf-8-sig")))
    header = next(rows)
    cols = {j: f"q{int(h.split(':')[0]) - 583900:02d}" for j, h in enumerate(header) if re.match(r"5839\d\d: ", h)}
    best: dict[str, tuple[int, Fraction]] = {}
    for row in rows:
        total = Fraction(0)
        for j, qid in cols.items():
            cell = row[j]
            picks = [cell] if bank[qid].kind == "single" else re.split(r"(?<!\\),", cell) if cell else []
            sel = {texts[qid][p] for p in (x.replace("\\,", ",") for x in picks) if p in texts[qid]}
            total += score_question(bank[qid], key.answer(qid), sel).points or 0
        attempt = int(row[8] or 0)
        if row[1] not in best or attempt > best[row[1]][0]:
            best[row[1]] = (attempt, total)
    return {sid: total for sid, (_, total) in best.items()}


def bench_grade(n_students: int = 10_000, workdir: Path | None = None) -> BenchRow:
    """Write a synthetic NTU COOL export of ``n_students`` and time `hw10 grade` on it, all outputs included, beside
    :func:`bare_scorer` on the same export (the floor: what reading and scoring alone cost)."""
    bank = load_bank()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmpdir = Path(tmp)
        export, key = build_class(bank, n_students=n_students)
        (tmpdir / "export.csv").write_bytes(export)
        write_key(key, tmpdir / "key.yaml")
        start = time.perf_counter()
        bare = bare_scorer(export, bank, key)
        bare_s = time.perf_counter() - start
        wall, peak, _ = _run_child(["-m", "grader.cli", "grade", str(tmpdir / "export.csv"), "--key",
                                 str(tmpdir / "key.yaml"), "--out", str(tmpdir / "out")])
        rows = export.count(b"\n")
    return BenchRow(f"grade {n_students:,} students", wall, peak, naive_s=bare_s,
                    note=f"{rows:,} export rows, every output incl. {n_students:,} feedback pages (naive: a bare "
                         f"scorer, {len(bare):,} totals, no checks and no outputs); {os.cpu_count()} CPUs")


def bench_model_stage(stage: str, device: str = "cpu") -> BenchRow:
    """Run ``python -m checks.bench STAGE`` in a child and read its JSON row."""
    import json

    _, peak, out = _run_child(["-m", "checks.bench", stage, "--device", device])
    row = json.loads(out.strip().splitlines()[-1])
    return BenchRow(row["stage"], row["ours_s"], peak, row["naive_s"], f"{row['note']}; device {row['device']}")


def format_table(rows: list[BenchRow]) -> str:
    """The bench rows as the plain-text table ``hw10 bench`` prints: stage, naive and our seconds, their ratio,
    peak MB and the note."""
    header = f"{'stage':40} {'naive s':>9} {'ours s':>9} {'ratio':>7} {'peak MB':>8}  note"
    lines = [header, "-" * len(header)]
    for r in rows:
        naive = f"{r.naive_s:9.2f}" if r.naive_s is not None else f"{'—':>9}"
        ratio = f"{r.ratio:6.1f}×" if r.ratio is not None else f"{'—':>7}"
        lines.append(f"{r.stage:40} {naive} {r.ours_s:9.2f} {ratio} {r.peak_mb:8.0f}  {r.note}")
    return "\n".join(lines)
