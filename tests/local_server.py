"""A threaded HTTP server on a free local port for the fakes of services that cannot be reached here
(tests/fake_hub.py, tests/fake_canvas.py)."""
from __future__ import annotations

import contextlib
import json
import sys
import threading
from http.server import ThreadingHTTPServer


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that hung up (a test's timeout) is expected; anything else is printed as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(handler, server_class=LocalServer, wrap=None, poll_interval: float = 0.02):
    """Serve ``handler`` (a ``BaseHTTPRequestHandler`` class) until the block ends; yields ``http://127.0.0.1:PORT``
    (``https://…`` with ``wrap``, applied to the listening socket: TLS). Its shutdown is answered within
    ``poll_interval`` seconds (the standard library's 0.5 s, per server, adds up over many tests)."""
    server = server_class(("127.0.0.1", 0), handler)
    if wrap is not None:
        server.socket = wrap(server.socket)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if wrap else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def respond(handler, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
    """Answer the request ``handler`` serves: ``status``, its content type and length, ``headers``, then ``data``."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(data)


def respond_json(handler, status: int, body, headers: dict | None = None,
                 content_type: str = "application/json") -> None:
    """:func:`respond` with ``body`` as JSON."""
    respond(handler, status, json.dumps(body).encode(), content_type, headers)
