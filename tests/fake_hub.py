"""A local stand-in for huggingface.co's few endpoints hw10 calls (model metadata, ``auth-check``), answering as the
real Hub does for a gated model (metadata public, files and auth-check need an accepted token), a public one
(``kyutai/mimi``) and one that never answers in time (``slow/model``). Response shapes and the ``X-Error-Code``
headers follow huggingface_hub's own error parsing (``hf_raise_for_status``); the real Hub cannot be reached here."""
from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler

from local_server import respond_json, serve

GOOD_TOKEN = "hf_accepted"
"""A token whose account accepted sesame/csm-1b's terms."""
KNOWN_TOKEN = "hf_no_access"
"""A valid token whose account has not accepted them."""


class FakeHub(BaseHTTPRequestHandler):
    """The request handler (module docstring)."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        respond_json(self, status, body, headers)

    def do_GET(self):  # noqa: N802 (http.server's name)
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if self.path.startswith("/api/models/slow/model"):
            time.sleep(5)  # longer than any timeout a test gives
            self._send(200, {})
        elif token and token not in (GOOD_TOKEN, KNOWN_TOKEN):
            self._send(401, {"error": "Invalid credentials in Authorization header"},
                       {"X-Error-Message": "Invalid credentials in Authorization header"})
        elif self.path.startswith("/api/models/kyutai/mimi"):
            if "/revision/" in self.path and not self.path.endswith("/revision/main"):
                self._send(404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"})
            else:
                self._send(200, {"id": "kyutai/mimi", "sha": "f" * 40, "gated": False, "private": False})
        elif self.path.startswith("/api/models/sesame/csm-1b") and self.path.endswith("/auth-check"):
            if token == GOOD_TOKEN:
                self._send(200, {})
            else:
                self._send(403 if token else 401, {"error": "Access to model sesame/csm-1b is restricted."},
                           {"X-Error-Code": "GatedRepo",
                            "X-Error-Message": "Access to model sesame/csm-1b is restricted."})
        elif self.path.startswith("/api/models/sesame/csm-1b"):
            self._send(200, {"id": "sesame/csm-1b", "sha": "0123456789abcdef0123456789abcdef01234567",
                             "gated": "manual", "private": False})
        else:
            self._send(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})


def serve_fake_hub():
    """The fake Hub on a free local port; yields its URL (``http://127.0.0.1:PORT``)."""
    return serve(FakeHub)
