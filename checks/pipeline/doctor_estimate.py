"""``hw10 doctor``'s ``disk`` and ``estimate`` steps: free space where the Hub cache lives against what the models
still to download weigh; the run's time and peak memory from ``hw10 bench --stages key_real``'s record
(:mod:`checks.bench.measured`: CPU figures, and one GPU run, a floor). The questions are the bank's
selected ones: a question the record has no figure for is said to be "not measured", never counted as 0 s.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from checks.bench import measured
from checks.models.hub import resolve_device
from checks.pipeline.doctor_findings import Doctor, Finding
from checks.pipeline.doctor_models import cached_in_hub
from grader.errors import InputError


def disk(d: Doctor) -> list[Finding]:
    """Free space where the Hub cache lives (the models download there)."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return []
    cache = Path(constants.HF_HUB_CACHE)
    probe = cache
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free_gb = shutil.disk_usage(probe).free / 1e9
    need = 0.0
    for repo, gb in (("kyutai/mimi", 0.4), ("sesame/csm-1b", 12.0)):
        model = "mimi" if repo == "kyutai/mimi" else "csm"
        ref = d.options.mimi if model == "mimi" else d.options.csm
        if d.needs(model) and ref == repo and not cached_in_hub(repo):
            need += gb
    if need and free_gb < need:
        return [Finding("disk", f"{free_gb:.1f} GB free at {cache}, the models to download take about {need:.0f} GB",
                        True, "free space, or point HF_HOME to a larger disk")]
    return [Finding("disk", f"{free_gb:.1f} GB free at {cache}" + (f" (about {need:.0f} GB to download)"
                                                                   if need else ""))]


def available_memory_gb() -> float | None:
    """Memory the system can give a new process now (Linux ``MemAvailable``, GB); None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024 ** 2
    except (OSError, ValueError, IndexError):
        return None
    return None


def _not_measured(budget: measured.KeyBudget, questions: list[str]) -> list[str]:
    """The questions ``budget`` has no figure for (a question newer than the record): said, never counted as 0 s."""
    return [q for q in questions if q not in budget.question_s]


def _minutes(budget: measured.KeyBudget, questions: list[str]) -> float:
    """The loads plus the measured ones of ``questions``, in minutes."""
    missing = _not_measured(budget, questions)
    return budget.seconds([q for q in questions if q not in missing]) / 60


def estimate(d: Doctor) -> list[Finding]:
    """The run's time and peak memory from ``hw10 bench --stages key_real``'s measured record
    (:mod:`checks.bench.measured`): on a CPU, the selected questions' time, and for a run that needs CSM the peak
    (too little free memory for it is a problem); on a GPU, the GPU record's floor with the CPU figure beside it.
    A selected question the record has no figure for is named "not measured" and left out of the time."""
    budget = measured.cpu_record(d.options.asr)
    if budget is None:
        return [Finding("estimate", "run time and peak memory not estimated: no key_real record in "
                                    "checks/bench/measured.py (`hw10 bench --stages key_real`)")]
    minutes = _minutes(budget, d.selected)
    missing = _not_measured(budget, d.selected)
    unmeasured = (f"; {', '.join(missing)}: not measured (no figure in checks/bench/measured.py; the time leaves "
                  f"{'it' if len(missing) == 1 else 'them'} out)" if missing else "")
    source = (f"measured {budget.when} on {budget.machine} with real-size models and {budget.asr}: "
              f"`{budget.command}`")
    try:
        dev = resolve_device(d.options.device)
    except InputError:
        return []  # the device step already says what is wrong with --device
    if dev != "cpu":
        gpu = measured.gpu_record()
        cpu_side = f"on a CPU these questions took {minutes:.0f} min at {budget.peak_gb:.1f} GB peak ({source})"
        if gpu is None:
            return [Finding("estimate", f"run time on a GPU: not measured yet; {cpu_side}{unmeasured}; `hw10 bench "
                                        "--stages key_real --device cuda` measures it here")]
        gone = _not_measured(gpu, d.selected)
        return [Finding("estimate", f"run time on a GPU ≥ {gpu.seconds([q for q in d.selected if q not in gone]):.0f}"
                                    f" s, peak host memory ≈ {gpu.peak_gb:.1f} GB (measured {gpu.when} on "
                                    f"{gpu.machine}, real-size random-weight models: a floor, measured with q06 on 30 "
                                    f"clips instead of 200 and an untrained codec in CSM; `{gpu.command}`)"
                                    + (f"; {', '.join(gone)}: not measured" if gone else "") + f"; {cpu_side}")]
    if not d.needs("csm"):  # the peak was measured with every model loaded; CSM alone is 6.5 GB of it
        return [Finding("estimate", f"run time ≈ {minutes:.0f} min for {len(d.selected)} question(s), peak memory "
                                    f"below the whole key's {budget.peak_gb:.1f} GB (CSM is not needed) ({source}); "
                                    f"this machine has {os.cpu_count()} CPU cores{unmeasured}"
                                    f"{_faster_asr(d, budget)}")]
    text = (f"run time ≈ {minutes:.0f} min, peak memory ≈ {budget.peak_gb:.1f} GB for {len(d.selected)} "
            f"question(s) ({source}); this machine has {os.cpu_count()} CPU cores{unmeasured}"
            f"{_faster_asr(d, budget)}")
    free = available_memory_gb()
    if free is not None and free < budget.peak_gb:
        # said, but not a reason for `hw10 key` to refuse: the figure is an upper bound (random weights generate to
        # full length), and the TA may know better
        return [Finding("estimate", f"{text}, but only {free:.1f} GB of memory is free", True,
                        f"free memory (≥ {budget.peak_gb:.0f} GB), or run on a GPU machine", stops_key=False)]
    return [Finding("estimate", text)]


def _faster_asr(d: Doctor, budget: measured.KeyBudget) -> str:
    """On a CPU run with openai-whisper, what ``--asr faster-whisper:turbo`` measured for the same questions (the
    ASR is most of a CPU key); ``""`` when it does not apply."""
    other = measured.CPU_2_CORES_FASTER_WHISPER
    if other is None or not d.needs("asr") or budget is other:
        return ""
    minutes = _minutes(other, d.selected)
    missing = _not_measured(other, d.selected)
    return (f"; with --asr faster-whisper:turbo (int8 on a CPU) these questions took {minutes:.0f} min"
            + (f" ({', '.join(missing)} not measured)" if missing else "") + " at "
            f"{other.peak_gb:.1f} GB peak (`{other.command}`), but its transcripts have not been compared with "
            "openai-whisper's on the real weights, and int8 changes words (tiny.en: 2 of 11 fixture clips differ from "
            "float32); the key records which ASR made them")
