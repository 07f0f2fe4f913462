"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 in a thread.

It records every request (headers and the raw body) and answers with what the test's
``answer`` function says; requests are real HTTP over a real socket (no mocks).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

# (status, body bytes, seconds to wait before answering)
Answer = tuple[int, bytes, float]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> dict[str, Any]:
        return orjson.loads(self.raw)


@dataclass
class Receiver:
    secret: str
    answer: Callable[[dict[str, Any]], Answer] = lambda env: (200, b'{"action": "allow"}', 0.0)
    received: list[Received] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                item = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                with receiver.cond:
                    receiver.received.append(item)
                    receiver.cond.notify_all()
                status, body, delay = receiver.answer(item.json)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the server gave up waiting
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def events(self, name: str) -> list[Received]:
        with self.cond:
            return [r for r in self.received if r.json["event"] == name]

    def wait_for(self, name: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [r for r in self.received if r.json["event"] == name]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{count} {name} event(s) expected, got {len(found)}: "
                                         f"{[r.json['event'] for r in self.received]}")
                self.cond.wait(left)


def verify(secret: str, raw: bytes, header: str) -> bool:
    """What a receiver does (docs/integrations.md): HMAC-SHA256 of the raw body, constant-time compare."""
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)
