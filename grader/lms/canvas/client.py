"""A small client for the few Canvas (NTU COOL) REST endpoints hw10 uses, with the standard library only.

**Where the token goes.** ``--canvas`` must be ``https://host[:port]`` (``http`` only for ``localhost``,
``127.0.0.1`` and ``::1``, which the tests use), with no path, user or query. The token (``CANVAS_API_TOKEN`` only:
never a command-line argument, never written or printed; one with a line break or any other control character is
refused) is sent only to that exact scheme, host and port. An API answer that redirects elsewhere, or a pagination
``Link`` to another origin (an ``http://`` downgrade of the same host included), is refused; a file download (the
quiz report's CSV) may be redirected to a storage host, and is followed there *without* the token. Redirects go
only to ``https`` (``http`` only on loopback), never to ``file:``, ``data:``, ``ftp:``, and at most
:data:`MAX_REDIRECTS` of them. A ``POST`` is never redirected (a redirected grade post would post every grade and
comment again elsewhere) and never resent: a POST whose answer is lost (timeout, dropped connection) or is a 5xx
raises :class:`CanvasUnsure`, and the caller reads back what arrived (``hw10 upload`` posts only what did not).

**Bounded.** Each request has a socket timeout (``timeout``) and a total ``deadline`` for the whole exchange,
headers and body (a watchdog shuts the socket when it passes, so a server dripping bytes cannot hold hw10); a body
over ``limit`` bytes is refused; pagination stops with an error on a page already read and after :data:`MAX_PAGES`.

**Canvas's answers** (app/controllers/application_controller.rb, app/middleware/request_throttle.rb): a bad,
expired or revoked token is HTTP 401 *with* ``WWW-Authenticate``; a missing permission (unpublished assignment, a
role without grading rights, a token without the scope) is 401 *without* it, or 403 on newer Canvas; throttling is
403 "(Rate Limit Exceeded)" (429 on some deployments), answered before the request is processed, so a throttled
request (a POST too) is waited out and sent again; a low ``X-Rate-Limit-Remaining`` (the bucket holds 600) slows
the next request down. GETs are retried on network errors and 5xx with backoff.

**Why not requests + urllib3 ``Retry``.** It would remove connection pooling only, which the handful of requests
of one command does not need, and add four packages to the grader's install. What hw10 needs on top of it would
still be hand-written: its automatic redirects read each redirect's body with no size cap and re-apply ``.netrc``
credentials per host (so redirects would be followed here by hand anyway), ``Retry`` cannot tell Canvas's 403
throttle from a 403 refusal nor say that it waits, and its timeouts are per socket operation, not a total
deadline. ``canvasapi`` stays out too: no timeouts, and it raises on the rate limit instead of waiting.
"""
from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.error import URLError
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import HTTPHandler, HTTPSHandler, OpenerDirector, ProxyHandler, Request, UnknownHandler

from grader.errors import InputError

TOKEN_ENV = "CANVAS_API_TOKEN"
RATE_LIMIT_LOW = 100.0
"""Below this ``X-Rate-Limit-Remaining`` (Canvas's bucket holds 600), the client pauses before each request."""
MAX_REDIRECTS = 5
MAX_PAGES = 1000
JSON_LIMIT = 64 * 2**20
"""The largest API answer read (bytes)."""
LOOPBACK = ("localhost", "127.0.0.1", "::1")
_REDIRECTS = (301, 302, 303, 307, 308)
_NEW_TOKEN = "make a new one in NTU COOL: Account → Settings → New access token"


class CanvasError(InputError):
    """Canvas refused or could not be reached; the message says what to do (exit 2)."""

    status: int | None = None
    """The HTTP status Canvas answered, when it answered."""


class CanvasUnsure(CanvasError):
    """A POST was sent but its answer was lost or was a 5xx: Canvas may have done it all the same."""


class _NetworkError(Exception):
    """No answer; the reason is in ``args[0]``."""


class _Deadline(_NetworkError):
    """No complete answer within the deadline (not retried: a retry would double the wait)."""


def check_token(token: str) -> str:
    """``token`` when it can be one (printable ASCII without spaces); else a :class:`CanvasError` that names what is
    wrong and where, never the token itself."""
    for i, ch in enumerate(token):
        if not ("!" <= ch <= "~"):
            what = "a line break" if ch in "\r\n" else ("a space" if ch == " " else
                                                        "a control character" if ord(ch) < 32 or ord(ch) == 127
                                                        else "a non-ASCII character")
            raise CanvasError(f"{TOKEN_ENV} holds {what} (character {i + 1} of {len(token)}), which no NTU COOL token "
                              f"has: set it again to the token alone, or {_NEW_TOKEN}")
    return token


def token_from_env() -> str:
    """The API token from ``CANVAS_API_TOKEN`` (surrounding blanks dropped), checked by :func:`check_token`."""
    import os

    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise CanvasError(f"set {TOKEN_ENV} to an NTU COOL access token (Account → Settings → New access token); "
                          "hw10 never takes it on the command line and never writes it anywhere")
    return check_token(token)


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``url``, the port made explicit (a bad port: port -1, which nothing matches)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port if port is not None else {"https": 443, "http": 80}.get(
        scheme, -1)


def allowed(url: str) -> bool:
    """Whether hw10 may fetch ``url`` at all: ``https``, or ``http`` on this machine."""
    scheme, host, port = origin(url)
    return bool(host) and port > 0 and (scheme == "https" or (scheme == "http" and host in LOOPBACK))


def check_base(url: str) -> str:
    """``--canvas`` as the client uses it (no trailing slash), or a :class:`CanvasError` saying what to give."""
    hint = "give NTU COOL's address alone, e.g. --canvas https://cool.ntu.edu.tw"
    text = url.strip().rstrip("/")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in text):
        raise CanvasError(f"--canvas holds a space or a control character: {hint}")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise CanvasError(f"--canvas {text!r} is not a web address: {hint}")
    if parts.username is not None or parts.password is not None or parts.path or parts.query or parts.fragment:
        raise CanvasError(f"--canvas {text!r} has more than the site's address (a path, user or query): {hint}")
    if origin(text)[2] < 0:
        raise CanvasError(f"--canvas {text!r} has a port that is not a number from 1 to 65535: {hint}")
    if not allowed(text):
        raise CanvasError(f"--canvas {text!r}: hw10 sends the token only over https (http only to this machine, "
                          f"for tests): {hint}")
    return text


@dataclass
class Response:
    """One answer of Canvas."""

    status: int
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes
    url: str = ""

    def header(self, name: str) -> str | None:
        """The header ``name`` (any case), or ``None``."""
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON (a :class:`CanvasError` when it is not)."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise CanvasError(f"NTU COOL answered something that is not JSON (HTTP {self.status}, "
                              f"{len(self.body):,} bytes)") from None


@dataclass
class Canvas:
    """A Canvas instance (``base`` like ``https://cool.ntu.edu.tw``) and a token."""

    base: str
    token: str = field(repr=False)
    timeout: float = 30.0
    """Seconds any one socket operation (connect, a read) may take."""
    deadline: float = 300.0
    """Seconds one exchange (its redirects, headers and whole body) may take."""
    retries: int = 3
    backoff: float = 2.0
    """Seconds before the first retry (doubled each time)."""
    sleep: Callable[[float], None] = time.sleep
    log: Callable[[str], None] = lambda message: None
    """Where waiting is said (the CLI prints it on stderr)."""
    _remaining: float | None = field(default=None, repr=False)
    _ssl: ssl.SSLContext | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base = check_base(self.base)
        check_token(self.token)
        if not (0 < self.timeout < 1e6 and 0 < self.deadline < 1e6):
            raise CanvasError("--timeout must be a number of seconds above 0")

    @property
    def origin(self) -> tuple[str, str, int]:
        """Where the token may go."""
        return origin(self.base)

    def url(self, path: str) -> str:
        """An absolute URL for an API ``path`` (``/api/v1/…``) or a URL Canvas gave."""
        return path if "://" in path or ":" in path.split("/", 1)[0] else f"{self.base}{path}"

    def scrub(self, text: str) -> str:
        """``text`` on one line and without the token (a server may echo it back)."""
        text = " ".join(str(text).split())
        return text.replace(self.token, "[token]") if self.token else text

    # ------------------------------------------------------------------ requests

    def request(self, method: str, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None,
                *, what: str = "", limit: int = JSON_LIMIT, leave_origin: bool = False) -> Response:
        """One exchange with the retries and waits of the module docstring; non-2xx answers other than the retried
        ones are a :class:`CanvasError` naming ``what`` was asked (:class:`CanvasUnsure` for a POST that may have
        been done). ``leave_origin``: follow redirects to other sites, without the token (file downloads)."""
        try:
            return self._request(method, path, params, what or f"{method} {urlsplit(self.url(path)).path}", limit,
                                 leave_origin)
        except CanvasError as exc:
            exc.message = self.scrub(exc.message)
            raise
        except Exception as exc:  # noqa: BLE001 - whatever breaks below, the token must not reach a traceback
            raise CanvasError(self.scrub(f"{what or method}: talking to NTU COOL failed ({type(exc).__name__}: "
                                         f"{exc})")) from None

    def get_json(self, path: str, params=None, what: str = "") -> Any:
        """GET and parse."""
        return self.request("GET", path, params, what=what).json()

    def get_all(self, path: str, params=None, what: str = "") -> list[Any]:
        """Every page of a list endpoint (``per_page=100``, following ``rel="next"`` on the same site only)."""
        out: list[Any] = []
        pairs = (list(params.items()) if isinstance(params, dict) else list(params or [])) + [("per_page", 100)]
        url: str | None = self.url(path)
        url += ("&" if "?" in url else "?") + urlencode(pairs, doseq=True)
        seen: set[str] = set()
        while url:
            if url in seen:
                raise CanvasError(self.scrub(f"{what}: NTU COOL's next page is one already read (a loop); stopped "
                                             "rather than repeat it: try again later"))
            if len(seen) >= MAX_PAGES:
                raise CanvasError(f"{what}: more than {MAX_PAGES} pages; stopped")
            seen.add(url)
            resp = self.request("GET", url, what=what)
            page = resp.json()
            if not isinstance(page, list):
                raise CanvasError(f"{what}: NTU COOL answered {type(page).__name__}, expected a list")
            out.extend(page)
            nxt = _next_link(resp.header("Link") or "")
            if nxt is not None:
                nxt = urljoin(resp.url or url, nxt)
                if origin(nxt) != self.origin:
                    raise CanvasError(self.scrub(f"{what}: NTU COOL's next page is on another site "
                                                 f"({_where(nxt)}); hw10 sends the token only to {self.base}"))
            url = nxt
        return out

    def _request(self, method, path, params, what, limit, leave_origin) -> Response:
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
            try:
                resp = self._exchange(method, url, body, what, limit, leave_origin)
            except _NetworkError as exc:
                if method != "GET":
                    raise CanvasUnsure(f"{what}: the answer was lost ({exc.args[0]}); NTU COOL may have done it all "
                                       "the same") from None
                if attempt < self.retries and not isinstance(exc, _Deadline):
                    attempt += 1
                    self.log(f"network error talking to {urlsplit(url).netloc} ({exc.args[0]}); retry {attempt} of "
                             f"{self.retries}")
                    self.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                raise CanvasError(f"cannot reach {urlsplit(url).netloc} ({exc.args[0]})"
                                  + (f" after {self.retries} retries" if attempt else "") + f" while asking for {what}"
                                  ) from None
            self._remaining = _float(resp.header("X-Rate-Limit-Remaining"))
            throttled = resp.status == 429 or (resp.status == 403 and b"Rate Limit Exceeded" in resp.body[:400])
            if throttled and attempt < self.retries:
                attempt += 1
                self.log(f"NTU COOL: rate limit reached; waiting, retry {attempt} of {self.retries}")
                self.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if resp.status >= 500 and method != "GET":
                raise CanvasUnsure(f"{what}: NTU COOL answered HTTP {resp.status}{_message(resp.body)}; it may have "
                                   "done it all the same")
            if resp.status >= 500 and attempt < self.retries:
                attempt += 1
                self.log(f"NTU COOL: HTTP {resp.status}; waiting, retry {attempt} of {self.retries}")
                self.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if 200 <= resp.status < 300:
                return resp
            err = self._error(resp, what, throttled)
            err.status = resp.status
            raise err

    def _exchange(self, method: str, url: str, body: bytes | None, what: str, limit: int,
                  leave_origin: bool) -> Response:
        """One request and its redirects, all within :attr:`deadline`."""
        stop_at = time.monotonic() + self.deadline
        for _hop in range(MAX_REDIRECTS + 1):
            if not allowed(url):
                raise CanvasError(f"{what}: NTU COOL sent hw10 to {_where(url)}; hw10 follows only https addresses "
                                  "(http only on this machine)")
            same = origin(url) == self.origin
            if not same and not leave_origin:
                raise CanvasError(f"{what}: NTU COOL sent hw10 to another site ({_where(url)}); hw10 sends the token "
                                  f"only to {self.base}: check --canvas (the address NTU COOL's pages show)")
            headers = {"Accept": "application/json" if not leave_origin else "*/*", "User-Agent": "hw10"}
            if same:
                headers["Authorization"] = f"Bearer {self.token}"
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            resp = self._once(method, url, body, headers, limit, stop_at)
            if resp.status not in _REDIRECTS:
                return resp
            location = resp.header("Location")
            if not location:
                return resp
            if method != "GET":
                raise CanvasError(f"{what}: NTU COOL answered the {method} with a redirect (HTTP {resp.status}) to "
                                  f"{_where(urljoin(url, location))}; hw10 never follows a redirected {method} (it "
                                  "would send everything again elsewhere) and sent nothing more: check --canvas")
            url = urljoin(url, location.strip())
        raise CanvasError(f"{what}: more than {MAX_REDIRECTS} redirects (last to {_where(url)}); stopped")

    def _once(self, method: str, url: str, body: bytes | None, headers: dict[str, str], limit: int,
              stop_at: float) -> Response:
        """One HTTP request; a watchdog shuts its socket at ``stop_at``."""
        socks: list[socket.socket] = []
        expired = threading.Event()
        lock = threading.Lock()

        def shut(sock: socket.socket) -> None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

        def track(sock: socket.socket) -> None:
            with lock:
                socks.append(sock)
                if expired.is_set():
                    shut(sock)

        def stop() -> None:
            with lock:
                expired.set()
                for s in socks:
                    shut(s)

        left = stop_at - time.monotonic()
        if left <= 0:
            raise _Deadline(f"no complete answer within {self.deadline:g} s")
        watchdog = threading.Timer(left, stop)
        watchdog.daemon = True
        watchdog.start()
        try:
            opener = OpenerDirector()
            for handler in (ProxyHandler(), _TrackedHTTP(track), _TrackedHTTPS(track, self._context()),
                            UnknownHandler()):
                opener.add_handler(handler)
            try:
                r = opener.open(Request(url, data=body, headers=headers, method=method),
                                timeout=min(self.timeout, left))
            except URLError as exc:
                raise _NetworkError(str(getattr(exc, "reason", exc))) from None
            with r:
                heads = {}
                for k, v in r.headers.items():
                    heads[k.lower()] = f"{heads[k.lower()]}, {v}" if k.lower() in heads else v
                length = _float(heads.get("content-length"))
                if length is not None and length > limit and r.status not in _REDIRECTS:
                    raise CanvasError(f"NTU COOL's answer is {length:,.0f} bytes, more than hw10 reads "
                                      f"({limit:,}); stopped")
                chunks, size = [], 0
                while True:
                    chunk = r.read1(65536)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise CanvasError(f"NTU COOL's answer is more than {limit:,} bytes, more than hw10 reads; "
                                          "stopped")
                    chunks.append(chunk)
                    if expired.is_set():
                        break
                if expired.is_set():
                    raise _Deadline(f"no complete answer within {self.deadline:g} s")
                return Response(r.status, heads, b"".join(chunks), url)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if expired.is_set():
                raise _Deadline(f"no complete answer within {self.deadline:g} s") from None
            reason = "timed out" if isinstance(exc, (socket.timeout, TimeoutError)) else (
                type(exc).__name__ + (f": {exc}" if str(exc) else ""))
            raise _NetworkError(reason) from None
        finally:
            watchdog.cancel()

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    def _error(self, resp: Response, what: str, throttled: bool) -> CanvasError:
        detail = _message(resp.body)
        if throttled:
            return CanvasError(f"{what}: NTU COOL's rate limit still refuses hw10 after {self.retries} retries (HTTP "
                               f"{resp.status}); wait a few minutes and run the command again")
        if resp.status == 401 and resp.header("WWW-Authenticate"):
            return CanvasError(f"{what}: NTU COOL refused the token in {TOKEN_ENV} (HTTP 401{detail}): it is wrong, "
                               f"expired or revoked; {_NEW_TOKEN}")
        if resp.status in (401, 403):
            return CanvasError(f"{what}: NTU COOL accepted the token but its user may not do this (HTTP "
                               f"{resp.status}{detail}): check the course, quiz and assignment ids, that the quiz or "
                               "assignment is published, and that this user is a teacher or TA of the course")
        if resp.status == 404:
            return CanvasError(f"{what}: not found (HTTP 404{detail}); check the course, quiz or assignment id in the "
                               "address bar of NTU COOL")
        if resp.status in _REDIRECTS:
            return CanvasError(f"{what}: NTU COOL answered a redirect (HTTP {resp.status}) without saying where")
        return CanvasError(f"{what}: NTU COOL answered HTTP {resp.status}{detail}")


class _TrackedHTTP(HTTPHandler):
    """``http:`` with each connection's socket told to the watchdog."""

    def __init__(self, track: Callable[[socket.socket], None]):
        super().__init__()
        self._cls = _tracked(http.client.HTTPConnection, track)

    def http_open(self, req):  # noqa: D102
        return self.do_open(self._cls, req)


class _TrackedHTTPS(HTTPSHandler):
    """``https:`` (certificates checked) with each connection's socket told to the watchdog."""

    def __init__(self, track: Callable[[socket.socket], None], context: ssl.SSLContext):
        super().__init__(context=context)
        self._cls = _tracked(http.client.HTTPSConnection, track)
        self._ctx = context

    def https_open(self, req):  # noqa: D102
        return self.do_open(self._cls, req, context=self._ctx)


def _tracked(base: type, track: Callable[[socket.socket], None]) -> type:
    class Tracked(base):
        def connect(self):
            super().connect()
            track(self.sock)

    return Tracked


def _where(url: str) -> str:
    """Scheme and host of ``url``, short (never its path or query, which may hold anything)."""
    parts = urlsplit(url)
    where = f"{parts.scheme}:" + (f"//{parts.netloc}" if parts.netloc else "")
    return repr(where[:80])


def _message(body: bytes) -> str:
    try:
        doc = json.loads(body[:100_000].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("message"):
        return f": {' '.join(str(errors[0]['message']).split())[:200]}"
    return ""


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, or ``None``.

    >>> _next_link('<https://c/x?page=2>; rel="next", <https://c/x?page=1>; rel="first"')
    'https://c/x?page=2'
    """
    for m in re.finditer(r"<([^>]*)>\s*((?:;[^,<]*)*)", header):
        if re.search(r"""(?i);\s*rel\s*=\s*"?[^";,]*\bnext\b""", m.group(2)):
            return m.group(1).strip()
    return None
