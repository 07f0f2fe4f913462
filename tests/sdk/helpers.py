"""Small helpers for the SDK tests: clients with a short backoff, waiting on events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import imclient
from imclient import Backoff


def make_client(base_url: str, token: str, db_path: Path | None = None, **kw: object) -> imclient.Client:
    """A client that reconnects quickly (a short backoff cap) so failover tests stay short."""
    kw.setdefault("backoff", Backoff(base=0.1, cap=1.0))
    kw.setdefault("request_timeout", 20.0)
    return imclient.Client(base_url, token, db_path=db_path, **kw)  # type: ignore[arg-type]


async def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


class Recorder:
    """Collects every event of a client in the background."""

    def __init__(self, client: imclient.Client) -> None:
        self.events: list[imclient.Event] = []
        self._stream = client.events()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async for event in self._stream:
            self.events.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def received(self, conversation_id: str) -> list[imclient.Message]:
        return [e.message for e in self.of(imclient.MessageReceived) if e.message.conversation_id == conversation_id]


def single_cid(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return f"si_{x}_{y}"


def texts(messages: list[imclient.Message]) -> list[str]:
    return [m.text for m in messages if m.content_type == 101]


def assert_contiguous(messages: list[imclient.Message], first: int = 1) -> None:
    seqs = [m.seq for m in messages]
    assert seqs == list(range(first, first + len(seqs))), seqs[:20]
