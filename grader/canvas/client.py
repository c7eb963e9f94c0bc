"""A small client for the few Canvas (NTU COOL) REST endpoints hw10 uses, with the standard library only.

Why not ``canvasapi``: its requester sets no timeout and raises on Canvas's rate limit instead of backing off, and
hw10 needs four endpoints. Here every request has a timeout; network errors and HTTP 5xx are retried with
backoff; a throttled request (HTTP 403 "Rate Limit Exceeded", or 429) waits and retries; a low
``X-Rate-Limit-Remaining`` slows the next request down; 401/403/404 become one clear :class:`CanvasError` saying
what to do. The token comes from ``CANVAS_API_TOKEN`` only (never a command-line argument, never written or
printed). Pagination follows the ``Link: <…>; rel="next"`` header.
"""
from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from ..errors import InputError

TOKEN_ENV = "CANVAS_API_TOKEN"
RATE_LIMIT_LOW = 100.0
"""Below this ``X-Rate-Limit-Remaining`` (Canvas's bucket starts at 700), the client pauses before each request."""


class CanvasError(InputError):
    """Canvas refused or could not be reached; the message says what to do (exit 2)."""


def token_from_env() -> str:
    """The API token from ``CANVAS_API_TOKEN``; a :class:`CanvasError` saying how to make one when it is unset."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise CanvasError(f"set {TOKEN_ENV} to an NTU COOL access token (Account → Settings → New access token); "
                          "hw10 never takes it on the command line and never writes it anywhere")
    return token


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - redirects are followed by hand
        return None


@dataclass
class Response:
    """One answer of Canvas."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (a :class:`CanvasError` when it is not)."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise CanvasError(f"Canvas answered something that is not JSON (HTTP {self.status}): "
                              f"{self.body[:120]!r}") from None


@dataclass
class Canvas:
    """A Canvas instance (``base`` like ``https://cool.ntu.edu.tw``) and a token."""

    base: str
    token: str = field(repr=False)
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 2.0
    """Seconds before the first retry (doubled each time)."""
    sleep: Callable[[float], None] = time.sleep
    log: Callable[[str], None] = lambda message: None
    """Where waiting is said (the CLI prints it on stderr)."""
    _remaining: float | None = None

    def __post_init__(self) -> None:
        self.base = self.base.rstrip("/")
        if urlsplit(self.base).scheme not in ("http", "https"):
            raise CanvasError(f"--canvas {self.base!r}: give the address of NTU COOL, e.g. https://cool.ntu.edu.tw")

    def url(self, path: str) -> str:
        """An absolute URL for an API ``path`` (``/api/v1/…``) or a URL Canvas gave."""
        return path if path.startswith(("http://", "https://")) else f"{self.base}{path}"

    def request(self, method: str, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None,
                *, auth: bool = True, what: str = "") -> Response:
        """One request with the retries and waits of the module docstring; non-2xx answers other than the retried
        ones are a :class:`CanvasError` naming ``what`` was asked."""
        url = self.url(path)
        body = None
        pairs = list(params.items()) if isinstance(params, dict) else list(params or [])
        if pairs and method == "GET":
            url += ("&" if "?" in url else "?") + urlencode(pairs, doseq=True)
        elif pairs:
            body = urlencode(pairs, doseq=True).encode()
        attempt = 0
        while True:
            if self._remaining is not None and self._remaining < RATE_LIMIT_LOW:
                self.log(f"NTU COOL's rate limit is low ({self._remaining:.0f} left): slowing down")
                self.sleep(self.backoff)
            headers = {"Accept": "application/json", "User-Agent": "hw10"}
            if auth and self._same_site(url):
                headers["Authorization"] = f"Bearer {self.token}"
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            try:
                resp = self._open(Request(url, data=body, headers=headers, method=method))
            except (URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
                if attempt < self.retries:
                    attempt += 1
                    self.log(f"network error talking to {urlsplit(url).netloc} ({getattr(exc, 'reason', exc)}); "
                             f"retry {attempt} of {self.retries}")
                    self.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise CanvasError(f"cannot reach {urlsplit(url).netloc} ({getattr(exc, 'reason', exc)}) after "
                                  f"{self.retries} retries{' while ' + what if what else ''}") from None
            self._remaining = _float(resp.headers.get("X-Rate-Limit-Remaining"))
            if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                url = urljoin(url, resp.headers["Location"])
                method, body = ("GET", None) if resp.status == 303 or method == "GET" else (method, body)
                continue
            throttled = resp.status == 429 or (resp.status == 403 and b"Rate Limit Exceeded" in resp.body)
            if (throttled or resp.status >= 500) and attempt < self.retries:
                attempt += 1
                why = "rate limit reached" if throttled else f"HTTP {resp.status}"
                self.log(f"NTU COOL: {why}; waiting, retry {attempt} of {self.retries}")
                self.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if 200 <= resp.status < 300:
                return resp
            raise self._error(resp, what or f"{method} {urlsplit(url).path}")

    def get_json(self, path: str, params=None, what: str = "") -> Any:
        """GET and parse."""
        return self.request("GET", path, params, what=what).json()

    def get_all(self, path: str, params=None, what: str = "") -> list[Any]:
        """Every page of a list endpoint (``per_page=100``, following ``rel="next"``)."""
        out: list[Any] = []
        url: str | None = path
        pairs = list((params or {}).items()) + [("per_page", 100)]
        while url:
            resp = self.request("GET", url, pairs, what=what)
            page = resp.json()
            if not isinstance(page, list):
                raise CanvasError(f"{what}: Canvas answered {type(page).__name__}, expected a list")
            out.extend(page)
            url, pairs = _next_link(resp.headers.get("Link", "")), []
        return out

    def _same_site(self, url: str) -> bool:
        return urlsplit(url).netloc == urlsplit(self.base).netloc

    def _open(self, req: Request) -> Response:
        opener = build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=self.timeout) as r:
                return Response(r.status, {k: v for k, v in r.headers.items()}, r.read())
        except HTTPError as e:
            return Response(e.code, {k: v for k, v in (e.headers or {}).items()}, e.read() if e.fp else b"")

    def _error(self, resp: Response, what: str) -> CanvasError:
        detail = _message(resp.body)
        if resp.status == 401:
            return CanvasError(f"{what}: NTU COOL refused the token in {TOKEN_ENV} (HTTP 401{detail}): it is wrong or "
                               "expired; make a new one in Account → Settings → New access token")
        if resp.status == 403:
            return CanvasError(f"{what}: the token's user may not do this (HTTP 403{detail}); it needs a teacher or TA "
                               "role in the course")
        if resp.status == 404:
            return CanvasError(f"{what}: not found (HTTP 404{detail}); check the course, quiz or assignment id in the "
                               "address bar of NTU COOL")
        return CanvasError(f"{what}: NTU COOL answered HTTP {resp.status}{detail}")


def _message(body: bytes) -> str:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("message"):
        return f": {str(errors[0]['message'])[:200]}"
    return ""


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, or ``None``."""
    for part in header.split(","):
        if 'rel="next"' in part and "<" in part and ">" in part:
            return part[part.index("<") + 1:part.index(">")]
    return None
