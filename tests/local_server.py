"""A threaded HTTP server on a free local port for the fakes of services that cannot be reached here
(tests/fake_hub.py, tests/fake_canvas.py)."""
from __future__ import annotations

import contextlib
import threading
from http.server import ThreadingHTTPServer


@contextlib.contextmanager
def serve(handler):
    """Serve ``handler`` (a ``BaseHTTPRequestHandler`` class) until the block ends; yields ``http://127.0.0.1:PORT``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
