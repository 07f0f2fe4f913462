"""The live websocket connections of this process (a node), and what is done for all of them.

- **Housekeeping**: one task per event loop, instead of two per connection, closes
  connections that have been silent for ``IM_WS_IDLE_TIMEOUT_SECONDS`` and refreshes the
  presence of every live connection every ``IM_PRESENCE_TTL_SECONDS / 3`` seconds in
  Redis pipelines (20,000 sockets: one pipelined round per refresh, not 500 thread-pool
  hops a second, and no per-connection timers).
- **Node pushes**: a group fan-out chunk is published once to every node
  (``NODES_GROUP``, ``{"type": "push.many", "frame", "users", "skip"}``) instead of
  once per member; each node hands the frame to its own connections of those users. A
  500-member group message costs each node one channel-layer message, not 500. The node
  joins the group before its first connection is announced, so a client that connects,
  then catches up by seq, misses nothing.
- **Memory after a disconnect storm**: a closed connection leaves some cyclic garbage
  (consumer, scope, tasks) that only the cyclic collector frees, and with the server's
  lazy GC thresholds (:mod:`imserver.gctuning`) a full collection can be far off: a node
  whose 1,000 sockets dropped and came back grew ~20 MB per storm. Once
  ``IM_GC_AFTER_DISCONNECTS`` connections have closed, the housekeeper runs one full
  collection when the storm has calmed (2 s without a close, or 30 s since the last one).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import weakref
from typing import Any, Protocol

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from apps.accounts import presence
from apps.common import pushhealth
from apps.common.push import push_frame
from apps.messaging.delivery import NODE_PUSH_EVENT, NODES_GROUP

log = logging.getLogger(__name__)

_REJOIN_SECONDS = 3600.0  # group memberships expire on some layers (in-memory: after a day)
_GC_QUIET_SECONDS = 2.0
_GC_MAX_DELAY_SECONDS = 30.0


class LiveConnection(Protocol):
    channel_name: str
    user_id: str | None
    platform_id: int
    last_rx: float

    async def idle_close(self) -> None: ...

    async def push_local(self, frame: str) -> None: ...


class _Live:
    def __init__(self) -> None:
        self.connections: dict[str, LiveConnection] = {}
        self.by_user: dict[str, set[LiveConnection]] = {}
        self.task: asyncio.Task[None] | None = None
        self.last_refresh = time.monotonic()
        self.node_channel: str | None = None
        self.node_task: asyncio.Task[None] | None = None
        self.joined_at = 0.0
        self.join_lock = asyncio.Lock()
        self.closed_since_gc = 0
        self.last_close = 0.0
        self.last_gc = time.monotonic()
        self.collections = 0

    def _tick(self) -> float:
        timeout = float(settings.IM_WS_IDLE_TIMEOUT_SECONDS)
        return max(0.05, min(1.0, timeout / 4)) if timeout > 0 else 1.0

    def _gc_due(self) -> bool:
        threshold = int(settings.IM_GC_AFTER_DISCONNECTS)
        return threshold > 0 and self.closed_since_gc >= threshold

    def collect_after_storm(self, now: float) -> None:
        """One full collection once many connections closed and the closing has calmed down."""
        if not self._gc_due():
            return
        if now - self.last_close < _GC_QUIET_SECONDS and now - self.last_gc < _GC_MAX_DELAY_SECONDS:
            return
        started = time.monotonic()
        freed = gc.collect()
        self.closed_since_gc, self.last_gc = 0, time.monotonic()
        self.collections += 1
        log.info("full GC after a wave of closed connections: %d objects freed in %.0f ms",
                 freed, (self.last_gc - started) * 1000)

    async def run(self) -> None:
        while self.connections or self._gc_due():
            await asyncio.sleep(self._tick())
            try:
                await self.sweep()
            except Exception:  # housekeeping must outlive any single failure
                log.exception("connection housekeeping failed")

    async def sweep(self) -> None:
        now = time.monotonic()
        self.collect_after_storm(now)
        timeout = float(settings.IM_WS_IDLE_TIMEOUT_SECONDS)
        if timeout > 0:
            for conn in [c for c in self.connections.values() if c.last_rx + timeout <= now]:
                self.remove(conn)
                asyncio.get_running_loop().create_task(conn.idle_close())
        interval = max(5.0, settings.IM_PRESENCE_TTL_SECONDS / 3)
        if now - self.last_refresh >= interval:
            self.last_refresh = now
            entries = [(c.user_id, c.channel_name, c.platform_id) for c in self.connections.values() if c.user_id]
            if entries:
                await sync_to_async(presence.presence_refresh_many, thread_sensitive=False)(entries=entries)
        if now - self.joined_at >= _REJOIN_SECONDS:
            await self.join_nodes()

    def remove(self, conn: LiveConnection) -> None:
        if self.connections.pop(conn.channel_name, None) is not None:
            self.closed_since_gc += 1
            self.last_close = time.monotonic()
        conns = self.by_user.get(conn.user_id or "")
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.by_user[conn.user_id or ""]

    # ------------------------------------------------------------ node pushes
    async def join_nodes(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        async with self.join_lock:
            if self.node_channel is None:
                self.node_channel = await layer.new_channel("node.")
                self.node_task = asyncio.get_running_loop().create_task(self.receive_nodes(layer, self.node_channel))
            await layer.group_add(NODES_GROUP, self.node_channel)
            self.joined_at = time.monotonic()

    async def receive_nodes(self, layer: Any, channel: str) -> None:
        while True:
            try:
                event = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("node channel receive failed")
                await asyncio.sleep(0.5)
                continue
            if event.get("type") == NODE_PUSH_EVENT:
                await self.push_local(event)

    async def push_local(self, event: dict[str, Any]) -> None:
        frame, skip = event.get("frame"), event.get("skip")
        if not isinstance(frame, str):
            return
        for user_id in event.get("users") or ():
            for conn in list(self.by_user.get(user_id, ())):
                if conn.channel_name == skip:
                    continue
                try:
                    await conn.push_local(frame)
                except Exception:  # a socket closing under us: the others still get theirs
                    log.debug("node push to %s failed", conn.channel_name, exc_info=True)


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Live] = weakref.WeakKeyDictionary()


def _live() -> _Live:
    loop = asyncio.get_running_loop()
    live = _loops.get(loop)
    if live is None:
        live = _loops[loop] = _Live()
    return live


async def register(conn: LiveConnection) -> None:
    """Track a connection that has just been accepted (before the client is told it is connected)."""
    live = _live()
    if live.node_channel is None:
        await live.join_nodes()
    live.connections[conn.channel_name] = conn
    if conn.user_id:
        live.by_user.setdefault(conn.user_id, set()).add(conn)
    if live.task is None or live.task.done():
        live.last_refresh = time.monotonic()
        live.task = asyncio.get_running_loop().create_task(live.run())


RESYNC_FRAME = push_frame("push.resync", {"reason": "pushes may have been lost; catch up by seq"})


async def _resync_all(live: _Live) -> None:
    for conn in list(live.connections.values()):
        try:
            await conn.push_local(RESYNC_FRAME)
            pushhealth.count("resyncs_sent")
        except Exception:  # a socket closing under us
            log.debug("resync to %s failed", conn.channel_name, exc_info=True)


def resync_connections() -> None:
    """The channel layer lost pushes for this node: every connection here catches up (``push.resync``)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    live = _loops.get(loop)
    if live is not None and live.connections:
        loop.create_task(_resync_all(live))


pushhealth.on_subscription_lost(resync_connections)


def unregister(conn: LiveConnection) -> None:
    live = _loops.get(asyncio.get_running_loop())
    if live is not None:
        live.remove(conn)
