"""The per-process send batcher (DESIGN §9).

Websocket sends queue here and are stored together: one call of
:func:`apps.messaging.store.messages_send` per batch, on the one thread that does DB
work (``database_sync_to_async``), so a batch is a fixed handful of statements and
one commit. While a batch is being written the next one fills up; on an idle server a
send is written at once (the window only applies while batches follow each other
within ``IM_SEND_BATCH_WINDOW_MS``). Each sender is answered when its batch has
committed; pushes then run on the event loop, off the DB thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref

from channels.db import database_sync_to_async
from django.conf import settings

from apps.common.errors import Code, DomainError
from apps.messaging.delivery import adeliver_messages
from apps.messaging.store import SendRequest, SendResult, messages_send

log = logging.getLogger(__name__)


class SendBatcher:
    def __init__(self) -> None:
        self._queue: list[tuple[SendRequest, asyncio.Future[SendResult | DomainError]]] = []
        self._task: asyncio.Task[None] | None = None
        self._last_end = 0.0
        self._delivery: asyncio.Task[None] | None = None
        self.batches = 0  # counters for tests and stats
        self.largest = 0

    async def submit(self, req: SendRequest) -> SendResult | DomainError:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[SendResult | DomainError] = loop.create_future()
        self._queue.append((req, fut))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        return await fut

    async def _run(self) -> None:
        while self._queue:
            window = settings.IM_SEND_BATCH_WINDOW_MS / 1000.0
            size = settings.IM_SEND_BATCH_MAX
            if window > 0 and len(self._queue) < size and time.monotonic() - self._last_end < window:
                await asyncio.sleep(window)  # busy: let the batch fill up a little
            batch, self._queue = self._queue[:size], self._queue[size:]
            started = time.monotonic()
            try:
                results = await database_sync_to_async(messages_send)([req for req, _ in batch])
            except Exception:
                log.exception("send batch of %d failed", len(batch))
                results = [DomainError(Code.INTERNAL, "message could not be stored")] * len(batch)
            self._last_end = time.monotonic()
            log.debug("stored a batch of %d in %.1f ms", len(batch), (self._last_end - started) * 1000)
            self.batches += 1
            self.largest = max(self.largest, len(batch))
            stored = []
            for (_req, fut), result in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(result)
                if isinstance(result, SendResult) and result.message is not None:
                    stored.append((result.message, result.origin))
            if stored:
                self._delivery = asyncio.get_running_loop().create_task(self._deliver_after(self._delivery, stored))

    async def _deliver_after(self, previous: asyncio.Task[None] | None, stored: list[tuple[dict, str | None]]) -> None:
        """Push a batch once the previous batch's pushes are out, so pushes leave in seq order."""
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        try:
            await adeliver_messages(stored)
        except Exception:
            log.exception("delivery of a batch of %d failed", len(stored))


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SendBatcher] = weakref.WeakKeyDictionary()


def get_batcher() -> SendBatcher:
    """The batcher of the running event loop (one per process in a server)."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = SendBatcher()
    return batcher
