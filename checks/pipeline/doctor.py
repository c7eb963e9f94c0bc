"""``hw10 doctor``: can the key run go? Everything a TA's one run on a borrowed GPU could trip over, found in seconds
and before any weights load, each problem one line with its fix.

A list of named steps (nbgrader's converters are the model), each returning :class:`Finding` lines:

``software``  Python, torch (and its CUDA build), transformers: the versions the run will record.
``device``    the device the run will use, its name and free memory, bf16 support and the dtype CSM runs in.
``models``    each model the selected questions need: a Hub id is asked over HTTP, with a timeout, whether this
              machine's token may read it (``/api/models/<id>/auth-check``: no token, a gated model whose terms
              are not accepted, an unknown id or revision, no network), unless it is already in the local cache;
              a local folder is checked on disk; the ASR's weights are found locally or their download
              reachable; the speaker encoder runs here and its weights are installed, cached or downloadable.
``assets``    every asset of the selected questions: present, decodes, the durations the homework's files have
              (``thresholds`` of the questions that use them), alice/james of equal length, the q09 codes file
              loads with ``weights_only=True`` as ``[1, 4, T]`` codes in ``0 … 2047``, EmoV-DB's layout and its
              clips per speaker × emotion.
``disk``      free space where the Hub cache lives, against what the models still to download weigh.
``estimate``  time and memory of the run from ``hw10 bench --stages key_real``'s records (two CPU runs, upper
              bounds; one H200 run, a floor); too little free memory for the measured peak is a problem.

Nothing here prints; :func:`examine` returns the findings (the CLI prints them). Network calls use the standard
library with ``timeout`` seconds, so no network is a clear line, never a hang; ``HF_ENDPOINT`` is honoured.

The steps live by what they look at: ``software`` and ``device`` here, ``models`` in
:mod:`checks.pipeline.doctor_models` (the ASR's probe is its backend's registry row), ``assets`` in
:mod:`checks.pipeline.doctor_assets`, ``disk`` and ``estimate`` in :mod:`checks.pipeline.doctor_estimate`; the report
(:class:`Finding`, :class:`Doctor`, :func:`report_json`) in :mod:`checks.pipeline.doctor_findings`.
"""
from __future__ import annotations

import os
import sys
from typing import Callable

from checks.models.csm import dtype_policy, resolve_dtype
from checks.models.hub import resolve_device
from checks.pipeline.doctor_assets import assets
from checks.pipeline.doctor_estimate import available_memory_gb, disk, estimate
from checks.pipeline.doctor_findings import DEFAULT_TIMEOUT_S, HF_SITE, Doctor, Finding, report_json
from checks.pipeline.doctor_models import HubAnswer, cached_in_hub, hub_token, models, probe_hub
from checks.pipeline.options import KeyRunOptions
from checks.pipeline.selection import parse_questions
from grader.errors import InputError
from grader.spec import QuestionBank

__all__ = ["DEFAULT_TIMEOUT_S", "HF_SITE", "STEPS", "Doctor", "Finding", "HubAnswer", "available_memory_gb",
           "cached_in_hub", "device", "examine", "hub_token", "probe_hub", "report_json", "software"]


# ----------------------------------------------------------------------------- software and device


def software(d: Doctor) -> list[Finding]:
    """Python, torch and transformers versions (torch missing is a problem: no model question can run)."""
    out = [Finding("software", f"Python {sys.version.split()[0]}")]
    try:
        import torch
    except ImportError:
        return out + [Finding("software", "torch is not installed", True,
                              "install torch first (on a GPU machine the CUDA build it already has; here "
                              "`pip install torch==2.13.0`), then `pip install \".[key]\"`")]
    cuda = f", CUDA build {torch.version.cuda}" if torch.version.cuda else ", CPU build"
    out.append(Finding("software", f"torch {torch.__version__}{cuda}"))
    try:
        import transformers
    except ImportError:
        return out + [Finding("software", "transformers is not installed", True, "pip install \".[key]\"")]
    return out + [Finding("software", f"transformers {transformers.__version__}")]


def device(d: Doctor) -> list[Finding]:
    """The device (``--device``), its free memory, bf16 support and CSM's dtype on it."""
    try:
        import torch
    except ImportError:
        return []

    try:
        dev = resolve_device(d.options.device)
    except InputError as exc:
        return [Finding("device", str(exc), True, "use --device cpu, or run on a machine with a CUDA GPU")]
    out = []
    if dev.startswith("cuda"):
        free, total = torch.cuda.mem_get_info(torch.device(dev))
        out.append(Finding("device", f"{dev}: {torch.cuda.get_device_name(torch.device(dev))}, "
                                     f"{free / 2**30:.1f} of {total / 2**30:.1f} GiB free"))
    else:
        out.append(Finding("device", f"cpu ({os.cpu_count()} cores): no GPU in use — the run is slow but works"))
    if d.needs("csm"):
        try:
            dtype = resolve_dtype(d.options.csm_dtype, dev)
        except InputError as exc:
            return out + [Finding("device", str(exc), True, "use --csm-dtype auto")]
        out.append(Finding("device", f"CSM runs in {dtype} ({dtype_policy(d.options.csm_dtype, dev, dtype)})"))
    return out

STEPS: list[tuple[str, Callable[[Doctor], list[Finding]]]] = [
    ("software", software), ("device", device), ("models", models), ("assets", assets), ("disk", disk),
    ("estimate", estimate)]
"""The doctor's steps, in order."""


def examine(options: KeyRunOptions, bank: QuestionBank, *, endpoint: str | None = None,
            timeout: float = DEFAULT_TIMEOUT_S, steps: list[str] | None = None) -> list[Finding]:
    """Every finding of :data:`STEPS` (or the named ``steps``) for a key run with ``options``; an
    :class:`InputError` for a bad question selection."""
    d = Doctor(options, bank, (endpoint or os.environ.get("HF_ENDPOINT") or HF_SITE).rstrip("/"), timeout,
               parse_questions(options.select, bank.ids))
    out: list[Finding] = []
    for name, step in STEPS:
        if steps is None or name in steps:
            out += step(d)
    return out
