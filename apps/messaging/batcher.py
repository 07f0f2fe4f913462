"""The per-process send batcher (DESIGN §9).

Websocket sends queue here and are stored together: one call of
:func:`apps.messaging.services.send.messages_send` per batch, so a batch is a fixed handful
of statements and one commit. While a batch is being written the next one fills up;
on an idle server a send is written at once (the window only applies while batches
follow each other within ``IM_SEND_BATCH_WINDOW_MS``). Each sender is answered when
its batch has committed; pushes then run on the event loop, off the DB threads.

Batches are written by ``IM_SEND_LANES`` lanes, each with its own thread and database
connection. A conversation always maps to the same lane, so its messages are stored,
acked and pushed in submission order, while different conversations' batches overlap
their database round trips. With one lane (the default on SQLite, which has one
writer anyway) batches run on the thread that does all other DB work
(``database_sync_to_async``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections

from apps.common import pushhealth
from apps.common.errors import Code, DomainError
from apps.common.metrics import SEND_BATCH_SECONDS
from apps.messaging.delivery import adeliver_messages
from apps.messaging.services.send import SendRequest, SendResult, messages_send
from apps.messaging.wire import WireMessage, conversation_id_of

log = logging.getLogger(__name__)

Waiter = tuple[SendRequest, "asyncio.Future[SendResult | DomainError]"]


def _in_lane(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with the connection housekeeping ``database_sync_to_async`` does around a call."""

    def call(*args: Any) -> Any:
        close_old_connections()
        try:
            return fn(*args)
        finally:
            close_old_connections()

    return call


class _Lane:
    def __init__(self, owner: SendBatcher, index: int, executor: ThreadPoolExecutor | None) -> None:
        self.owner = owner
        self.index = index
        self.queue: list[Waiter] = []
        self.task: asyncio.Task[None] | None = None
        self.last_end = 0.0
        self.delivery: asyncio.Task[None] | None = None
        if executor is None:
            self.store = database_sync_to_async(messages_send)
        else:
            self.store = SyncToAsync(_in_lane(messages_send), thread_sensitive=False, executor=executor)

    def submit(self, item: Waiter) -> None:
        self.queue.append(item)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        while self.queue:
            window = settings.IM_SEND_BATCH_WINDOW_MS / 1000.0
            size = settings.IM_SEND_BATCH_MAX
            if window > 0 and len(self.queue) < size and time.monotonic() - self.last_end < window:
                await asyncio.sleep(window)  # busy: let the batch fill up a little
            await pushhealth.wait_for_pushes()  # backpressure: pushes lag, so acks (and senders) slow down
            batch, self.queue = self.queue[:size], self.queue[size:]
            started = time.monotonic()
            try:
                results = await self.store([req for req, _ in batch])
            except Exception:
                log.exception("send batch of %d failed", len(batch))
                results = [DomainError(Code.INTERNAL, "message could not be stored")] * len(batch)
            self.last_end = time.monotonic()
            SEND_BATCH_SECONDS.observe(self.last_end - started)  # metrics hook
            log.debug("lane %d stored a batch of %d in %.1f ms", self.index, len(batch),
                      (self.last_end - started) * 1000)
            self.owner.batches += 1
            self.owner.largest = max(self.owner.largest, len(batch))
            stored: list[tuple[WireMessage, str | None]] = []
            for (_req, fut), result in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(result)
                if isinstance(result, SendResult) and result.message is not None:
                    stored.append((result.message, result.origin))
            if stored:
                self.delivery = asyncio.get_running_loop().create_task(self._deliver_after(self.delivery, stored))

    async def _deliver_after(self, previous: asyncio.Task[None] | None, stored: list[tuple[WireMessage, str | None]]) -> None:
        """Push a batch once the previous batch's pushes are out, so pushes leave in seq order."""
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        try:
            await adeliver_messages(stored)
        except Exception:
            log.exception("delivery of a batch of %d failed", len(stored))


def lane_count() -> int:
    """``IM_SEND_LANES``; 0 (the default) picks 1 on SQLite and 2 elsewhere."""
    lanes = int(getattr(settings, "IM_SEND_LANES", 0))
    if lanes > 0:
        return lanes
    return 1 if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else 2


def lane_key(req: SendRequest) -> str:
    """The conversation a send goes to, as far as lanes care (computed before validation,
    so the fields may still be of the wrong type)."""
    return conversation_id_of(
        session_type=req.session_type, send_id=str(req.send_id), recv_id=str(req.recv_id), group_id=str(req.group_id)
    )


class SendBatcher:
    def __init__(self, lanes: int | None = None) -> None:
        n = lane_count() if lanes is None else max(1, lanes)
        self._executors = [ThreadPoolExecutor(1, thread_name_prefix=f"im-send-{i}") for i in range(n)] if n > 1 else []
        self._lanes = [_Lane(self, i, self._executors[i] if n > 1 else None) for i in range(n)]
        self.batches = 0  # counters for tests and stats
        self.largest = 0

    async def submit(self, req: SendRequest) -> SendResult | DomainError:
        fut: asyncio.Future[SendResult | DomainError] = asyncio.get_running_loop().create_future()
        lane = self._lanes[zlib.crc32(lane_key(req).encode()) % len(self._lanes)] if len(self._lanes) > 1 else self._lanes[0]
        lane.submit((req, fut))
        return await fut

    def close(self) -> None:
        for ex in self._executors:
            ex.shutdown(wait=False)


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SendBatcher] = weakref.WeakKeyDictionary()


def get_batcher() -> SendBatcher:
    """The batcher of the running event loop (one per process in a server)."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = SendBatcher()
    return batcher
