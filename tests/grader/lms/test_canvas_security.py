"""The Canvas client against a malicious local server: the token goes only to the exact scheme, host and port given
(redirects and pagination links to another origin, an http:// downgrade of the same host and port included), https
only, redirects only to http(s) and at most 5, never a redirected POST, a total deadline for headers and body, a
size cap, pagination loops, and a token that is never printed (a line break in it, a server echoing it back, every
refusal of the command line: exit 2, one line, no traceback)."""
from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import time
from http.server import BaseHTTPRequestHandler

import pytest
from fake_canvas import COURSE, QUIZ, TOKEN, serve
from local_server import LocalServer, respond_json

from grader.lms.canvas.client import MAX_REDIRECTS, Canvas, CanvasError
from hw10.cli import main


class Hostile:
    """What the malicious server does (``mode``) and every request it got."""

    def __init__(self):
        self.mode = ""
        self.hits: list[tuple[str, str, str, str | None]] = []
        """(Host, method, path, Authorization)."""

    def tokens_seen(self) -> list[str]:
        return [auth for *_, auth in self.hits if auth]


def hostile_handler(h: Hostile):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, status: int, body, headers: dict | None = None) -> None:
            respond_json(self, status, body, headers)

        def _drip(self, data: bytes, seconds: float = 15.0) -> None:
            stop = time.monotonic() + seconds
            try:
                while time.monotonic() < stop:
                    self.wfile.write(data)
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass

        def _flood(self, limit: int = 200 * 2**20) -> None:
            try:
                for _ in range(limit // 65536):
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                pass

        def handle_any(self):  # noqa: C901 - one branch per malicious behaviour
            h.hits.append((self.headers.get("Host", ""), self.command, self.path, self.headers.get("Authorization")))
            if self.command == "POST":
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
            mode, _, arg = h.mode.partition(" ")
            full = f"http://{self.headers.get('Host')}{self.path}"
            if self.path.startswith("/observed/"):
                mode = ""
            if mode in ("redirect", "redirect307"):
                self._json(307 if mode == "redirect307" else 302, {}, {"Location": arg})
            elif mode == "chain":
                n = int(self.path.rsplit("/", 1)[-1]) if self.path.rsplit("/", 1)[-1].isdigit() else 0
                self._json(302, {}, {"Location": f"/chain/{n + 1}"})
            elif mode == "loop-pages":
                self._json(200, [1], {"Link": f'<{full.split("?")[0]}?page=2>; rel="next"'} if "page=2" not in
                           self.path else {"Link": f'<{full.split("?")[0]}?page=2>; rel="next"'})
            elif mode == "next":
                self._json(200, [1], {"Link": f'<{arg}>; rel="next"'} if "/next" not in self.path else {})
            elif mode == "slow-body":
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self._drip(b"[")
            elif mode == "slow-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                self._drip(b"a")
            elif mode == "huge-length":
                self.send_response(200)
                self.send_header("Content-Length", str(10**12))
                self.end_headers()
                self._flood()
            elif mode == "huge-stream":
                self.send_response(200)
                self.end_headers()  # no length: the body ends when the connection closes
                self._flood()
            elif mode == "echo":
                self._json(400, {"errors": [{"message": f"bad header {self.headers.get('Authorization')}\nagain"}]})
            else:
                self._json(200, [])

        do_GET = do_POST = handle_any  # noqa: N815

    return Handler


@pytest.fixture
def evil():
    """The malicious server and an observer on another origin (another host name and port)."""
    bad, other = Hostile(), Hostile()
    with serve(hostile_handler(bad)) as url, serve(hostile_handler(other)) as observer:
        yield bad, url, other, observer.replace("127.0.0.1", "localhost")


def client(url: str, **kw) -> Canvas:
    return Canvas(url, TOKEN, **{"sleep": lambda s: None, "timeout": 1.0, "deadline": 2.0, **kw})


# ----------------------------------------------------------------------------- where the token goes


@pytest.mark.parametrize("target", ["observer", "same-port-other-host"])
def test_an_api_redirect_to_another_origin_is_refused_and_a_download_follows_it_without_the_token(evil, target):
    bad, url, other, observer = evil
    where = observer if target == "observer" else url.replace("127.0.0.1", "localhost")
    bad.mode = f"redirect {where}/observed/file.csv"
    with pytest.raises(CanvasError, match="sent hw10 to another site .* sends the token only to"):
        client(url).get_json("/api/v1/courses/1", what="the course")
    assert other.hits == [] and len(bad.hits) == 1 and bad.tokens_seen() == [f"Bearer {TOKEN}"]
    bad.hits.clear()
    client(url).request("GET", "/files/1/download", what="the file", leave_origin=True)
    followed = (other.hits if target == "observer" else bad.hits[1:])
    assert [(m, p) for _, m, p, _ in followed] == [("GET", "/observed/file.csv")]
    assert [auth for *_, auth in followed] == [None]  # the storage host never gets the token


def test_a_pagination_link_to_another_origin_is_refused(evil):
    bad, url, other, observer = evil
    bad.mode = f"next {observer}/next"
    with pytest.raises(CanvasError, match="next page is on another site .*'http://localhost:"):
        client(url).get_all("/api/v1/courses/1/students", what="the students")
    assert other.hits == []


@pytest.mark.parametrize("location", ["file:///etc/passwd", "data:text/plain,hello", "ftp://127.0.0.1/x",
                                      "gopher://127.0.0.1:70/x", "http://example.invalid/x"])
def test_redirects_go_only_to_https(evil, location):
    bad, url, *_ = evil
    bad.mode = f"redirect {location}"
    with pytest.raises(CanvasError, match="hw10 follows only https addresses"):
        client(url).request("GET", "/files/1/download", what="the file", leave_origin=True)
    assert len(bad.hits) == 1


def test_at_most_five_redirects(evil):
    bad, url, *_ = evil
    bad.mode = "chain"
    with pytest.raises(CanvasError, match=f"more than {MAX_REDIRECTS} redirects"):
        client(url).get_json("/chain/0", what="a chain")
    assert len(bad.hits) == MAX_REDIRECTS + 1


@pytest.mark.parametrize("mode", ["redirect", "redirect307"])
def test_a_post_is_never_redirected(evil, mode):
    bad, url, other, observer = evil
    bad.mode = f"{mode} {observer}/observed/update_grades"
    with pytest.raises(CanvasError, match="never follows a redirected POST .* sent nothing more"):
        client(url).request("POST", "/api/v1/x/update_grades", [("grade_data[1][posted_grade]", "7")],
                            what="posting 1 grade")
    assert other.hits == [] and [m for _, m, _, _ in bad.hits] == ["POST"]


@pytest.mark.parametrize("canvas", ["http://cool.ntu.edu.tw", "http://10.0.0.8:8080", "ftp://cool.ntu.edu.tw",
                                    "cool.ntu.edu.tw", "https://ta:secret@cool.ntu.edu.tw",
                                    "https://cool.ntu.edu.tw/courses/77", "https://cool.ntu.edu.tw:99999",
                                    "https://cool.ntu.edu.tw?x=1", "https://cool.ntu.edu.tw\r\nX: y"])
def test_canvas_must_be_an_https_address_alone(canvas, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CANVAS_API_TOKEN", TOKEN)
    assert main(["fetch", "--canvas", canvas, "--course", "1", "--quiz", "2", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --canvas") and "e.g. --canvas https://cool.ntu.edu.tw" in err
    assert not (tmp_path / "x.csv").exists()


# ----------------------------------------------------------------------------- https → http on the same host and port


class SniffingTLSServer(LocalServer):
    """A TLS server that records the bytes of any plaintext request sent to its port (an http:// downgrade)."""

    context: ssl.SSLContext
    plaintext: list[bytes]

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(2)
        try:
            first = sock.recv(1, socket.MSG_PEEK)
            if first and first != b"\x16":  # not a TLS handshake: someone speaks plain HTTP here
                self.plaintext.append(sock.recv(65536))
                sock.close()
                raise OSError("plaintext")
            return self.context.wrap_socket(sock, server_side=True), addr
        except (OSError, ssl.SSLError):
            sock.close()
            raise


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


@pytest.fixture
def tls(certificate, monkeypatch):
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this certificate, as it would NTU COOL's
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    bad = Hostile()

    class Server(SniffingTLSServer):
        context = ctx
        plaintext: list[bytes] = []

    with serve(hostile_handler(bad), server_class=Server, wrap=lambda s: s) as url:
        yield bad, url.replace("http://", "https://"), Server.plaintext


def test_an_https_site_is_reached_and_a_downgrade_to_http_never_carries_the_token(tls):
    bad, url, plaintext = tls
    assert client(url).get_json("/api/v1/ok", what="a check") == [] and bad.tokens_seen() == [f"Bearer {TOKEN}"]
    downgrade = url.replace("https://", "http://") + "/api/v1/next"
    bad.mode = f"redirect {downgrade}"
    with pytest.raises(CanvasError, match="another site"):
        client(url).get_json("/api/v1/courses/1", what="the course")
    with pytest.raises(CanvasError, match="cannot reach"):  # followed without the token: the TLS port hangs up
        client(url).request("GET", "/files/1/download", what="the file", leave_origin=True)
    bad.mode = f"next {downgrade}"
    with pytest.raises(CanvasError, match="next page is on another site"):
        client(url).get_all("/api/v1/courses/1/students", what="the students")
    assert plaintext and all(b"GET /api/v1/next" in p for p in plaintext)
    assert not any(b"Authorization" in p or TOKEN.encode() in p for p in plaintext)


# ----------------------------------------------------------------------------- bounded


@pytest.mark.parametrize("mode", ["slow-body", "slow-headers"])
def test_a_dripping_server_cannot_hold_hw10_past_the_deadline(evil, mode):
    bad, url, *_ = evil
    bad.mode = mode
    start = time.monotonic()
    with pytest.raises(CanvasError, match="no complete answer within 0.5 s"):
        client(url, deadline=0.5, timeout=0.3).get_json("/api/v1/slow", what="a slow page")
    assert time.monotonic() - start < 10 and len(bad.hits) == 1  # not retried either: that would double the wait


@pytest.mark.parametrize("mode", ["huge-length", "huge-stream"])
def test_a_huge_answer_is_refused(evil, mode):
    bad, url, *_ = evil
    bad.mode = mode
    with pytest.raises(CanvasError, match="more than hw10 reads"):
        client(url, deadline=20.0).request("GET", "/api/v1/huge", what="a huge page", limit=2**20)


def test_pagination_stops_on_a_page_already_read(evil):
    bad, url, *_ = evil
    bad.mode = "loop-pages"
    with pytest.raises(CanvasError, match="next page is one already read"):
        client(url).get_all("/api/v1/courses/1/students", what="the students")
    assert len(bad.hits) == 2


# ----------------------------------------------------------------------------- the token is never shown


@pytest.mark.parametrize("token, says", [("cool-token\nSECRET", "a line break (character 11 of 17)"),
                                         ("cool\x1b[2JSECRET", "a control character (character 5 of 14)"),
                                         ("cool token SECRET", "a space"),
                                         ("cool-tökenSECRET", "a non-ASCII character")])
def test_a_token_with_a_line_break_or_control_character_is_refused_and_never_shown(token, says, monkeypatch,
                                                                                     tmp_path, capsys):
    with pytest.raises(CanvasError, match=re.escape(says)) as err:
        Canvas("https://cool.ntu.edu.tw", token)
    assert "SECRET" not in str(err.value) and "SECRET" not in repr(err.value)
    monkeypatch.setenv("CANVAS_API_TOKEN", token)
    for verb in (["fetch", "--quiz", "2", "--out", str(tmp_path / "x.csv")],
                 ["upload", "--assignment", "3", "--from", str(tmp_path), "--key", str(tmp_path / "k.yaml")]):
        assert main([verb[0], "--canvas", "https://cool.ntu.edu.tw", "--course", "1", *verb[1:]]) == 2
        out, err_text = capsys.readouterr()
        assert "SECRET" not in out + err_text and says in err_text and err_text.count("\n") == 1


def test_a_token_echoed_by_the_server_is_not_repeated(evil):
    bad, url, *_ = evil
    bad.mode = "echo"
    with pytest.raises(CanvasError) as err:
        client(url).get_json("/api/v1/courses/1", what="the course")
    assert TOKEN not in str(err.value) and "bad header Bearer [token] again" in str(err.value)


@pytest.mark.parametrize("mode", ["redirect file:///etc/passwd", "redirect307 {observer}/x", "chain", "slow-body",
                                  "slow-headers", "huge-length", "echo", "redirect {observer}/x"])
def test_every_refusal_of_hw10_fetch_is_one_line_without_the_token(evil, mode, monkeypatch, tmp_path, capsys):
    bad, url, other, observer = evil
    bad.mode = mode.format(observer=observer)
    monkeypatch.setenv("CANVAS_API_TOKEN", TOKEN)
    start = time.monotonic()
    rc = main(["fetch", "--canvas", url, "--course", str(COURSE), "--quiz", str(QUIZ), "--out",
               str(tmp_path / "x.csv"), "--timeout", "0.5"])
    out, err = capsys.readouterr()
    assert rc == 2 and time.monotonic() - start < 15
    assert TOKEN not in out + err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1 and err.endswith("\n")
    assert err.splitlines()[-1].startswith("error:") and other.tokens_seen() == []
    assert not (tmp_path / "x.csv").exists()
