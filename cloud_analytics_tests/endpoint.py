"""A scripted HTTP endpoint on 127.0.0.1 for webhook tests: answers the statuses it is given,
in order (the last one repeats), and records every request with its headers and JSON body."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HANG = "hang"  # a scripted answer: say nothing for longer than the client waits


class Endpoint:
    """The scripted server: answers statuses in order (the last one repeats), records requests."""

    def __init__(self, port: int):
        self.port = port
        self.host = f"http://127.0.0.1:{port}"
        self.url = f"{self.host}/hook"
        self.script: list = [200]
        self.retry_after: str | None = None
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def next_answer(self, path, headers, body):
        with self.lock:
            self.requests.append({"path": path, "headers": headers, "body": body})
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]


@pytest.fixture
def endpoint(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)  # a developer's proxy must not stand in for the server

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
            answer = state.next_answer(self.path, dict(self.headers), body)
            if answer == HANG:
                time.sleep(0.3)
                return
            self.send_response(answer)
            if 300 <= answer < 400:
                self.send_header("Location", "/moved")
            if state.retry_after is not None:
                self.send_header("Retry-After", state.retry_after)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # a hung-up client is expected here
    state = Endpoint(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=2)
