"""``hw10 doctor``'s ``models`` step: each model the selected questions need, before any weights load.

A Hub id is asked over HTTP, with a timeout, whether this machine's token may read it
(``/api/models/<id>/auth-check``: no token, a gated model whose terms are not accepted, an unknown id or revision, no
network), unless it is already in the local cache; a local folder is checked on disk; the ASR's weights are found
locally or their download reachable, by its backend's own probe (:func:`checks.models.asr.probe_asr`: the registry
row's, through :class:`ProbeTools`); the speaker encoder runs here and its weights are installed, cached or
downloadable. Network calls use the standard library with ``timeout`` seconds, so no network is a clear line, never
a hang.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

from checks.models import ge2e
from checks.models.asr import AsrError, parse_asr_spec, probe_asr
from checks.models.hub import looks_local
from checks.models.mimi import check_local_checkpoint
from checks.models.probe import ProbeLine
from checks.models.speaker import DEFAULT_WAVLM
from checks.pipeline.doctor_findings import HF_SITE, Doctor, Finding
from grader.errors import InputError


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


def _labelled(label: str, lines: list[ProbeLine]) -> list[Finding]:
    """A model probe's lines as the ``models`` step's findings, each ``label: text``."""
    return [Finding("models", f"{label}: {line.text}", line.problem, line.fix) for line in lines]


def _hub_lines(d: Doctor, repo: str, revision: str | None) -> list[ProbeLine]:
    if d.endpoint in d.unreachable:  # asked once: no waiting on the network again for the next model
        answer = d.unreachable[d.endpoint]
    else:
        answer = probe_hub(repo, revision, endpoint=d.endpoint, token=hub_token(), timeout=d.timeout)
        if answer.offline:
            d.unreachable[d.endpoint] = answer
    if answer.ok:
        return [ProbeLine(f"{repo}{'@' + revision if revision else ''} readable on the Hub")]
    if answer.offline and cached_in_hub(repo):
        return [ProbeLine(f"{repo} is in the local Hub cache; the Hub itself is not reachable ({answer.why}): set "
                          "HF_HUB_OFFLINE=1 for the run")]
    return [ProbeLine(answer.why, True, answer.fix)]


def _folder_lines(ref: str, check: Callable[[Path], object] | None = None) -> list[ProbeLine]:
    path = Path(ref).expanduser()
    if not path.is_dir():
        return [ProbeLine(f"{path} is not a folder", True,
                          "give the folder `save_pretrained` (or `hf download … --local-dir`) wrote")]
    if check is not None:
        try:
            check(path)
        except InputError as exc:
            return [ProbeLine(str(exc), True, "give a complete checkpoint folder")]
    return [ProbeLine(f"local folder {path}")]


def _hub_model(d: Doctor, label: str, repo: str, revision: str | None) -> list[Finding]:
    return _labelled(label, _hub_lines(d, repo, revision))


def _local_folder(label: str, ref: str, check: Callable[[Path], object] | None = None) -> list[Finding]:
    return _labelled(label, _folder_lines(ref, check))


@dataclass
class _Tools:
    """What the doctor lends a model adapter's probe (:class:`checks.models.probe.ProbeTools`)."""

    d: Doctor

    @property
    def timeout(self) -> float:
        return self.d.timeout

    def hub(self, repo: str, revision: str | None = None) -> list[ProbeLine]:
        return _hub_lines(self.d, repo, revision)

    def local_folder(self, ref: str, check: Callable[[Path], object] | None = None) -> list[ProbeLine]:
        return _folder_lines(ref, check)

    def get(self, url: str) -> int:
        return _get(url, None, self.d.timeout)[0]


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
    """The ASR's weights, as its backend's probe finds them (the registry row's: a local file or folder, the bundled
    tiny.en, a cached or reachable download)."""

    try:
        spec = parse_asr_spec(d.options.asr)
    except AsrError as exc:
        return [Finding("models", f"ASR: {exc}", True, "fix --asr")]
    return _labelled("ASR", probe_asr(spec, _Tools(d)))


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
