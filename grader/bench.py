"""`hw10 bench`: measured speed, never asserted in tests. Here: grading a large synthetic class.

Each stage runs in a child process so its peak memory (max RSS) is its own. Model stages
(encode/decode/ASR, naive against batched) are added by the checks package.
"""
from __future__ import annotations

import csv
import gc
import io
import math
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

MODEL_STAGES = ("mimi", "q06_encode", "umap", "pesq", "q09", "q10", "csm", "q11", "key", "key_real",
                "key_real_fw")
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
    floor: bool = False
    """``naive_s`` is a floor doing less than ours (a bare scorer writing nothing), not the same work done naively:
    the table says how many times the floor's time ours takes, not a speed-up."""

    @property
    def ratio(self) -> float | None:
        """How many times faster ours is than the naive way (None without one, or for a floor)."""
        return None if self.naive_s is None or self.ours_s <= 0 or self.floor else self.naive_s / self.ours_s

    def compared(self) -> str:
        """The comparison column: ``12.3× faster`` than the naive way, or ``3.4× bare`` for the times a floor's
        time ours takes, or ``—``."""
        if self.naive_s is None or self.naive_s <= 0 or self.ours_s <= 0:
            return "—"
        if self.floor:
            return f"{self.ours_s / self.naive_s:.1f}× bare"
        return f"{self.naive_s / self.ours_s:.1f}× faster"


def _run_child(args: list[str]) -> tuple[float, float, str, tuple[float, float]]:
    """Wall seconds, peak RSS (MB), stdout and CPU seconds (user, system: the kernel's, e.g. creating files) of a
    child Python process, the processes it forked and waited for included in the CPU seconds (not in the peak: each
    of those has its own, sharing most of its pages with the stage's process).

    The child is started through a small wrapper that reports its own peak at exit (Linux: ``VmHWM``, the high-water
    mark of its own memory; elsewhere ``ru_maxrss``), so each stage's peak memory is its own (RUSAGE_CHILDREN would
    be the max over all children, and a child's ``ru_maxrss`` starts at this process's)."""
    wrapper = ("import resource, runpy, sys, atexit\n"
               "def _peak_kb(u):\n"
               # Linux: the high-water mark of this process's own memory. ru_maxrss also counts the memory of the
               # process that started it (subprocess forks it from this one, and the kernel keeps the larger mark
               # across the exec): with 100,000 synthetic students built here, 1 GB that is not the stage's
               "    try:\n"
               "        with open('/proc/self/status') as f:\n"
               "            return int(next(l for l in f if l.startswith('VmHWM:')).split()[1])\n"
               "    except (OSError, StopIteration, ValueError):\n"
               "        return u.ru_maxrss\n"
               "def _report():\n"
               "    u = resource.getrusage(resource.RUSAGE_SELF)\n"
               "    c = resource.getrusage(resource.RUSAGE_CHILDREN)\n"  # the processes it forked (writers, checks)
               "    sys.stderr.write('\\nHW10_MAXRSS_KB=%d HW10_CPU_S=%.3f,%.3f\\n' % (_peak_kb(u), "
               "u.ru_utime + c.ru_utime, u.ru_stime + c.ru_stime))\n"
               "atexit.register(_report)\n"
               "sys.argv = sys.argv[1:]\n"
               "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n")
    module, rest = args[1], args[2:]
    assert args[0] == "-m", args
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, "-c", wrapper, module, *rest], stdout=out, stderr=subprocess.PIPE,
                                text=True)
        err = []
        for line in proc.stderr:  # a long stage's progress ("bench key_real: q06 …") shows as it comes
            err.append(line)
            if line.startswith("bench "):
                sys.stderr.write(line)
        proc.wait()
        out.seek(0)
        stdout = out.read()
    wall = time.perf_counter() - start
    stderr = "".join(err)
    if proc.returncode != 0:
        raise RuntimeError(f"bench child failed ({proc.returncode}): {stderr.strip()[-2000:]}")
    found = re.findall(r"HW10_MAXRSS_KB=(\d+) HW10_CPU_S=([\d.]+),([\d.]+)", stderr)
    if not found:
        return wall, float("nan"), stdout, (float("nan"), float("nan"))
    kb, user, system = found[-1]
    return wall, int(kb) / 1024, stdout, (float(user), float(system))


def disk_floor(folder: Path, sizes: list[int]) -> float:
    """Seconds this disk takes, now, to create files of ``sizes`` in one folder (and to delete them again): the part
    of a grade run no code of ours can remove. (This machine's disk is noisy: 20,000 creations took 0.5–8 s.)"""
    target = folder / "disk-floor"
    target.mkdir()
    start = time.perf_counter()
    for i, size in enumerate(sizes):
        fd = os.open(target / f"{i}.html", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.write(fd, b"x" * size)
        os.close(fd)
    took = time.perf_counter() - start
    for i in range(len(sizes)):
        os.unlink(target / f"{i}.html")
    target.rmdir()
    return took


def bare_scorer(export: bytes, bank, key) -> dict[str, Fraction]:
    """The naive way, for comparison only: what reading and scoring alone cost, written as plainly as a TA would in
    thirty lines. The csv module, choice texts looked up exactly as the synthetic class typed them, the rule on
    whole numbers (every question's points over one common denominator; :func:`score_question` only for a question
    under a regrade policy or not graded), the latest attempt; no encodings, no fuzzy matching, no checks, no
    outputs. Returns each student's total (the same as the grader's, tested)."""
    texts = {s.id: {as_typed_in_canvas(o.text, False): o.id for o in s.options} for s in bank}
    texts["q07"].update({t.replace(", ", "，"): x for t, x in texts["q07"].items()})
    rows = csv.reader(io.StringIO(export.decode("utf-8-sig")))
    header = next(rows)
    cols = [(j, f"q{int(h.split(':')[0]) - 583900:02d}") for j, h in enumerate(header) if re.match(r"5839\d\d: ", h)]
    plain = {q: key.answer(q) for _, q in cols if key.answer(q).graded and key.answer(q).policy is None}
    unit = math.lcm(*(bank[q].points_exact.denominator * len(a.correct) for q, a in plain.items()), 1)
    # per question: (single?, its correct letters, what one right choice earns in 1/unit: a whole number)
    rule = {q: (bank[q].kind == "single", set(a.correct), int(bank[q].points_exact * unit / (
        1 if bank[q].kind == "single" else len(a.correct)))) for q, a in plain.items()}
    best: dict[str, tuple[int, Fraction]] = {}
    for row in rows:
        whole, other = 0, Fraction(0)
        for j, qid in cols:
            cell = row[j]
            picks = [cell] if bank[qid].kind == "single" else re.split(r"(?<!\\),", cell) if cell else []
            sel = {texts[qid][p] for p in (x.replace("\\,", ",") for x in picks) if p in texts[qid]}
            if qid not in rule:
                other += score_question(bank[qid], key.answer(qid), sel).points or 0
                continue
            single, correct, each = rule[qid]
            if single:
                whole += each if len(sel) == 1 and sel <= correct else 0
            else:
                whole += each * max(0, len(sel & correct) - len(sel - correct))
        total = Fraction(whole, unit) + other
        attempt = int(row[8] or 0)
        if row[1] not in best or attempt > best[row[1]][0]:
            best[row[1]] = (attempt, total)
    return {sid: total for sid, (_, total) in best.items()}


def bench_grade(n_students: int = 10_000, workdir: Path | None = None) -> list[BenchRow]:
    """Write a synthetic NTU COOL export of ``n_students`` and time `hw10 grade` on it, all outputs included, into a
    new folder and again into the same folder (which first checks and then replaces every file of the first run),
    each beside :func:`bare_scorer` on the same export (the floor: what reading and scoring alone cost); then what
    creating the same files costs this disk right now (:func:`disk_floor`), to read the wall times against."""
    bank = load_bank()
    rows = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmpdir = Path(tmp)
        export, key = build_class(bank, n_students=n_students)
        (tmpdir / "export.csv").write_bytes(export)
        write_key(key, tmpdir / "key.yaml")
        gc.collect()
        gc.freeze()  # the bare scorer's collections do not walk the synthetic class this process built
        try:
            start = time.perf_counter()
            bare = bare_scorer(export, bank, key)
            bare_s = time.perf_counter() - start
        finally:
            gc.unfreeze()
        n_rows = export.count(b"\n")
        del export
        command = ["-m", "hw10.cli", "grade", str(tmpdir / "export.csv"), "--key", str(tmpdir / "key.yaml"),
                   "--out", str(tmpdir / "out")]
        for how in ("new folder", "rerun, same folder"):
            wall, peak, _, (user, system) = _run_child(command)
            rows.append(BenchRow(f"grade {n_students:,} students ({how})", wall, peak, naive_s=bare_s, floor=True,
                                 note=f"CPU {user:.1f} s + kernel {system:.1f} s; {n_rows:,} export rows, "
                                      f"every output incl. {n_students:,} feedback pages (beside it: a bare "
                                      f"scorer, {len(bare):,} totals, no checks and no outputs; \"× bare\": how "
                                      f"many times its time ours takes); {os.cpu_count()} CPUs"))
        sizes = [f.stat().st_size for f in (tmpdir / "out" / "feedback").iterdir()]
        rows.append(BenchRow(f"disk: create {len(sizes):,} files", disk_floor(tmpdir, sizes), float("nan"),
                             note="the same number and sizes of files in a plain loop, just now on this disk: the "
                                  "part of the wall time above that is the disk's"))
    return rows


def bench_model_stage(stage: str, device: str = "cpu") -> list[BenchRow]:
    """Run ``python -m checks.bench STAGE`` in a child and read its JSON rows (each with the child's peak memory)."""
    import json

    _, peak, out, _ = _run_child(["-m", "checks.bench", stage, "--device", device])
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [BenchRow(r["stage"], r["ours_s"], peak, r["naive_s"], f"{r['note']}; device {r['device']}") for r in rows]


def format_table(rows: list[BenchRow]) -> str:
    """The bench rows as the plain-text table ``hw10 bench`` prints: stage, the naive way's (or a floor's) and our
    seconds, how they compare (:meth:`BenchRow.compared`), peak MB and the note."""
    header = f"{'stage':40} {'naive s':>9} {'ours s':>9} {'compared':>13} {'peak MB':>8}  note"
    lines = [header, "-" * len(header)]
    for r in rows:
        naive = f"{r.naive_s:9.2f}" if r.naive_s is not None else f"{'—':>9}"
        peak = f"{r.peak_mb:8.0f}" if r.peak_mb == r.peak_mb else f"{'—':>8}"  # NaN: not measured
        lines.append(f"{r.stage:40} {naive} {r.ours_s:9.2f} {r.compared():>13} {peak}  {r.note}")
    return "\n".join(lines)
