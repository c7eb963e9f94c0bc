"""Where the speaker encoder's weights come from (checks.models.ge2e): an installed Resemblyzer, hw10's cache, or
Resemblyzer's wheel from PyPI's simple index, every copy checked against its published SHA-256. A local server plays
the index here (tests/local_server.py), serving a wheel built from the installed package's weights."""
from __future__ import annotations

import hashlib
import io
import zipfile
from http.server import BaseHTTPRequestHandler

import pytest
from local_server import serve

from checks.models import ge2e

pytest.importorskip("resemblyzer")  # the real weights: installed --no-deps by tools/test.sh


def _wheel(weights: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("resemblyzer/__init__.py", "")
        z.writestr("resemblyzer/pretrained.pt", weights)
    return buf.getvalue()


def _pypi(wheel: bytes):
    """A package index (PEP 503) listing the wheel with a relative link, as mirrors do."""
    class PyPI(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path == "/simple/resemblyzer/":
                body = (f'<html><body><a href="../../files/{ge2e.WHEEL}#sha256=00">{ge2e.WHEEL}</a>'
                        "</body></html>").encode()
            elif self.path == f"/files/{ge2e.WHEEL}":
                body = wheel
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return PyPI


@pytest.fixture(scope="module")
def real_weights() -> bytes:
    path = ge2e.installed_weights()
    assert path is not None
    return path.read_bytes()


@pytest.fixture
def not_installed(monkeypatch, tmp_path):
    """As on a TA's machine after `pip install ".[key]"`: no Resemblyzer package (its lookup is replaced: the
    package is installed in this environment), an empty cache."""
    monkeypatch.setattr(ge2e, "installed_weights", lambda: None)
    monkeypatch.setenv("HW10_CACHE", str(tmp_path / "cache"))


def test_the_installed_package_weights_are_found_without_importing_it(real_weights):
    path, where = ge2e.locate_weights()
    assert path == ge2e.installed_weights() and "installed resemblyzer package" in where
    assert hashlib.sha256(real_weights).hexdigest() == ge2e.WEIGHTS_SHA256


def test_weights_download_once_from_pypi_into_the_cache(not_installed, monkeypatch, real_weights):
    wheel = _wheel(real_weights)
    with serve(_pypi(wheel)) as url:
        monkeypatch.setenv("HW10_PYPI_URL", url)
        path = ge2e.download_weights(wheel_sha256=hashlib.sha256(wheel).hexdigest())
    assert path == ge2e.cache_path() and path.read_bytes() == real_weights
    assert not list(path.parent.glob(".*tmp"))
    found, where = ge2e.locate_weights()  # the next run: from the cache, no network
    assert found == path and where.startswith("hw10 cache")


def test_a_wheel_that_is_not_the_published_one_is_refused(not_installed, monkeypatch, real_weights):
    with serve(_pypi(_wheel(real_weights))) as url:
        monkeypatch.setenv("HW10_PYPI_URL", url)
        with pytest.raises(ge2e.WeightsError, match="is not the published .*SHA-256 differs"):
            ge2e.download_weights()  # the real wheel's hash: our rebuilt zip differs
    assert not ge2e.cache_path().exists()


def test_weights_other_than_resemblyzers_are_refused_even_in_a_trusted_wheel(not_installed, monkeypatch):
    wheel = _wheel(b"not the weights")
    with serve(_pypi(wheel)) as url:
        monkeypatch.setenv("HW10_PYPI_URL", url)
        with pytest.raises(ge2e.WeightsError, match="unexpected SHA-256"):
            ge2e.download_weights(wheel_sha256=hashlib.sha256(wheel).hexdigest())
    assert not ge2e.cache_path().exists()


def test_a_tampered_cache_is_not_used(not_installed):
    ge2e.cache_path().parent.mkdir(parents=True)
    ge2e.cache_path().write_bytes(b"edited")
    path, why = ge2e.locate_weights()
    assert path is None and "SHA-256 differs" in why


def test_no_network_is_one_clear_message(not_installed, monkeypatch):
    monkeypatch.setenv("HW10_PYPI_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    with pytest.raises(ge2e.WeightsError, match="cannot download .*copy Resemblyzer 0.1.4's pretrained.pt to"):
        ge2e.weights_path()


def test_an_index_without_the_wheel_says_so(not_installed, monkeypatch):
    with serve(_pypi(b"")) as url:
        monkeypatch.setenv("HW10_PYPI_URL", url + "/elsewhere")
        with pytest.raises(ge2e.WeightsError, match="answers 404"):
            ge2e.download_weights()
