"""Network layer: one websocket, heartbeat, reconnect with backoff and jitter, request/reply
matching with timeouts, and an outbox that resends every unacked message after a reconnect.

The layer knows frames, not messages: it hands the logic layer, in socket order, every
push and every send result through ``on_inbound`` (so an ack and the pushes around it are
processed in the order the server sent them), and calls ``on_connected`` after each
successful (re)connect, once the outbox has been resent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from imclient import errors
from imclient.errors import AuthError, ClientClosed, ConnectionLost, IMError, KickedError, RequestTimeout

log = logging.getLogger("imclient.network")

# close codes after which reconnecting with the same token is pointless (docs/protocol.md)
CLOSE_AUTH_FAILED = 4001
CLOSE_BAD_ARGS = 4002
CLOSE_KICKED = 4003
CLOSE_BAD_FRAMES = 4004
NO_RECONNECT = frozenset({CLOSE_AUTH_FAILED, CLOSE_BAD_ARGS, CLOSE_KICKED, CLOSE_BAD_FRAMES})


@dataclass(slots=True)
class Inbound:
    """One frame for the logic layer: ``kind`` is ``push``, ``ack`` or ``send_failed``."""

    kind: str
    op: str
    data: dict[str, Any]
    client_msg_id: str = ""
    error: IMError | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # the sent message, for ``ack``


@dataclass(slots=True)
class OutgoingSend:
    client_msg_id: str
    payload: dict[str, Any]
    frame_id: str = ""  # the id of the frame that carries it on the current connection, "" when not sent yet
    not_before: float = 0.0  # monotonic time before which it is not sent again (rate limited)


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with full jitter: ``uniform(base/2, min(cap, base * 2**attempt))``."""

    base: float = 0.5
    cap: float = 30.0
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(self.attempt, 16)))
        self.attempt += 1
        return random.uniform(min(self.base / 2, ceiling), ceiling)

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class _Pending:
    op: str
    future: asyncio.Future[dict[str, Any]]
    sent_at: float = field(default_factory=time.monotonic)


class Connection:
    """One websocket to ``ws_url`` that stays up until ``close()`` or an authentication end."""

    def __init__(
        self,
        ws_url: str,
        token: str,
        platform_id: int,
        *,
        on_inbound: Callable[[Inbound], None],
        on_connected: Callable[[dict[str, Any]], Awaitable[None]],
        on_state: Callable[[str, int, str], None],
        heartbeat_interval: float = 25.0,
        request_timeout: float = 15.0,
        send_window: int = 100,
        backoff: Backoff | None = None,
    ) -> None:
        self._url = f"{ws_url}?token={quote(token, safe='')}&platform_id={int(platform_id)}"
        self._on_inbound = on_inbound
        self._on_connected = on_connected
        self._on_state = on_state
        self.heartbeat_interval = heartbeat_interval
        self.request_timeout = request_timeout
        self.send_window = max(1, send_window)
        self.backoff = backoff or Backoff()
        self._ids = itertools.count(1)
        self._ws: ClientConnection | None = None
        self._pending: dict[str, _Pending] = {}
        self._outbox: OrderedDict[str, OutgoingSend] = OrderedDict()
        self._unsent: deque[str] = deque()  # outbox keys not yet written on this connection, in order
        self._in_flight: dict[str, str] = {}  # frame id -> client_msg_id
        self._sent_at: dict[str, float] = {}  # frame id -> when it was written
        self._outbox_changed = asyncio.Event()
        self._connected = asyncio.Event()
        self._first_result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._runner: asyncio.Task[None] | None = None
        self._closing = False
        self._last_sent = time.monotonic()
        self.hello: dict[str, Any] = {}
        self.end_error: IMError | None = None  # set when the connection ended for good (auth, kick)
        self.connects = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self, timeout: float) -> dict[str, Any]:
        """Connect (retrying with backoff) and return the server's ``connected`` data."""
        self._runner = asyncio.get_running_loop().create_task(self._run(), name="imclient-connection")
        try:
            return await asyncio.wait_for(asyncio.shield(self._first_result), timeout)
        except TimeoutError:
            await self.close()
            raise ConnectionError(f"could not connect to {self._url.split('?')[0]} in {timeout:g}s") from None

    async def close(self) -> None:
        self._closing = True
        self._connected.clear()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 3)
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
        self._fail_pending(ClientClosed())
        if not self._first_result.done():
            self._first_result.set_exception(ClientClosed())
            self._first_result.exception()  # mark retrieved

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def closed(self) -> bool:
        return self._closing or self.end_error is not None

    def outbox(self) -> list[OutgoingSend]:
        return list(self._outbox.values())

    # ------------------------------------------------------------------ requests
    async def request(self, op: str, data: dict[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        """Send one request and return the reply's ``data``; raises IMError for a non-zero code.

        Waits for the connection (up to the timeout) when it is down; fails with
        ``ConnectionLost`` when it drops before the reply.
        """
        timeout = self.request_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        if self.closed:
            raise self.end_error or ClientClosed()
        if not self._connected.is_set():
            try:
                await asyncio.wait_for(self._connected.wait(), timeout)
            except TimeoutError:
                raise RequestTimeout(op, timeout) from None
        ws = self._ws
        if ws is None:
            raise ConnectionLost(op)
        frame_id = str(next(self._ids))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[frame_id] = _Pending(op, future)
        try:
            await self._write(ws, {"id": frame_id, "op": op, "data": data or {}})
            return await asyncio.wait_for(future, max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            raise RequestTimeout(op, timeout) from None
        except ConnectionClosed:
            raise ConnectionLost(op) from None
        finally:
            self._pending.pop(frame_id, None)

    def enqueue_send(self, client_msg_id: str, payload: dict[str, Any]) -> None:
        """Queue a ``msg.send``; its result arrives through ``on_inbound`` (``ack`` or ``send_failed``).

        The message stays queued until the server answers it, across reconnects: after each
        reconnect every unanswered message is sent again, in order, with the same client_msg_id.
        """
        if client_msg_id not in self._outbox:
            self._outbox[client_msg_id] = OutgoingSend(client_msg_id, payload)
            self._unsent.append(client_msg_id)
            self._outbox_changed.set()

    # ------------------------------------------------------------------ internals
    async def _write(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        self._last_sent = time.monotonic()
        await ws.send(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))

    def _fail_pending(self, error: IMError) -> None:
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(error if not isinstance(error, ConnectionLost) else ConnectionLost(pending.op))
                pending.future.exception()
        self._pending.clear()

    async def _run(self) -> None:
        while not self._closing:
            self._on_state("connecting", self.backoff.attempt, "")
            retry_hint = ""
            try:
                async with connect(
                    self._url,
                    open_timeout=10,
                    close_timeout=3,
                    max_size=2**24,
                    max_queue=None,
                    ping_interval=20,
                    ping_timeout=20,
                ) as ws:
                    hello = await asyncio.wait_for(ws.recv(), 10)
                    frame = json.loads(hello)
                    if frame.get("op") != "connected" or frame.get("code", 0) != 0:
                        code = int(frame.get("code") or 0)
                        err_cls = AuthError if code in errors.AUTH_CODES else IMError
                        raise err_cls(code, str(frame.get("msg") or "connection refused"), frame.get("data"))
                    await self._serve(ws, frame.get("data") or {})
                    retry_hint = f"closed {ws.close_code}"
                    if ws.close_code in NO_RECONNECT and self.end_error is None:
                        self.end_error = AuthError(errors.TOKEN_INVALID, f"connection closed with {ws.close_code}")
            except AuthError as err:
                self.end_error = err
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, TimeoutError, ValueError, IMError) as err:
                retry_hint = f"{type(err).__name__}: {err}"
            finally:
                self._ws = None
                self._connected.clear()
                self._in_flight.clear()
                self._sent_at.clear()
                for item in self._outbox.values():
                    item.frame_id = ""
                self._unsent = deque(self._outbox)  # everything unanswered goes again, in order
                self._fail_pending(ConnectionLost("request"))
            if self.end_error is not None:
                if not self._first_result.done():
                    self._first_result.set_exception(self.end_error)
                    self._first_result.exception()
                self._fail_outbox(self.end_error)
                self._on_state("closed", self.backoff.attempt, str(self.end_error))
                return
            if self._closing:
                return
            delay = self.backoff.next_delay()
            log.info("connection lost (%s); reconnecting in %.2fs", retry_hint, delay)
            self._on_state("disconnected", self.backoff.attempt, retry_hint)
            await asyncio.sleep(delay)

    def _fail_outbox(self, error: IMError) -> None:
        for item in list(self._outbox.values()):
            self._on_inbound(Inbound("send_failed", "msg.send", {}, item.client_msg_id, error))
        self._outbox.clear()

    async def _serve(self, ws: ClientConnection, hello: dict[str, Any]) -> None:
        self._ws = ws
        self.hello = hello
        self.connects += 1
        self.backoff.reset()
        reader = asyncio.create_task(self._read(ws), name="imclient-reader")
        sender = asyncio.create_task(self._flush_outbox(ws), name="imclient-outbox")
        heart = asyncio.create_task(self._heartbeat(ws), name="imclient-heartbeat")
        self._connected.set()
        self._on_state("connected", 0, "")
        if not self._first_result.done():
            self._first_result.set_result(hello)
        hook = asyncio.create_task(self._on_connected(hello), name="imclient-on-connected")
        try:
            await reader
        finally:
            self._connected.clear()
            for task in (sender, heart, hook):
                task.cancel()
            for task in (sender, heart, hook):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    log.warning("ignoring a frame that is not JSON")
                    continue
                if isinstance(frame, dict):
                    self._dispatch(ws, frame)

    def _dispatch(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        op = str(frame.get("op") or "")
        data = frame.get("data") if isinstance(frame.get("data"), dict) else {}
        frame_id = frame.get("id")
        if op == "kicked":
            self.end_error = KickedError(int(frame.get("code") or errors.TOKEN_KICKED), str(data.get("reason") or "kicked"))
            self._on_inbound(Inbound("push", op, data))
            return
        if frame_id is None or "code" not in frame:
            self._on_inbound(Inbound("push", op, data))
            return
        frame_id = str(frame_id)
        code = int(frame.get("code") or 0)
        cmid = self._in_flight.pop(frame_id, None)
        if cmid is not None:
            self._sent_at.pop(frame_id, None)
            self._send_answered(cmid, code, str(frame.get("msg") or ""), data)
            return
        pending = self._pending.pop(frame_id, None)
        if pending is None or pending.future.done():
            return
        if code == 0:
            pending.future.set_result(data)
        else:
            pending.future.set_exception(IMError(code, str(frame.get("msg") or ""), data))

    def _send_answered(self, cmid: str, code: int, msg: str, data: dict[str, Any]) -> None:
        item = self._outbox.get(cmid)
        if item is None:
            return
        if code == 0:
            del self._outbox[cmid]
            self._on_inbound(Inbound("ack", "msg.send", data, cmid, payload=item.payload))
        elif code == errors.RATE_LIMITED or code == 500:
            # not stored: send it again after the server's hint, keeping it in the outbox
            item.frame_id = ""
            delay = float(data.get("retry_after_ms") or 200) / 1000.0
            item.not_before = time.monotonic() + delay
            self._unsent = deque(k for k, v in self._outbox.items() if not v.frame_id)
            asyncio.get_running_loop().call_later(delay, self._outbox_changed.set)
        else:
            del self._outbox[cmid]
            self._on_inbound(Inbound("send_failed", "msg.send", data, cmid, IMError(code, msg, data)))
        self._outbox_changed.set()

    async def _flush_outbox(self, ws: ClientConnection) -> None:
        """Send queued messages in order, at most ``send_window`` unanswered at once.

        An unanswered message older than ``request_timeout`` means the connection is not
        doing its job: it is closed, and the reconnect resends everything still queued.
        """
        while True:
            self._outbox_changed.clear()
            now = time.monotonic()
            while self._unsent and len(self._in_flight) < self.send_window:
                item = self._outbox.get(self._unsent[0])
                if item is None or item.frame_id:
                    self._unsent.popleft()  # answered meanwhile
                    continue
                if item.not_before > now:
                    break  # keep the order: nothing behind it goes first
                self._unsent.popleft()
                frame_id = f"s{next(self._ids)}"
                item.frame_id = frame_id
                self._in_flight[frame_id] = item.client_msg_id
                self._sent_at[frame_id] = now
                await self._write(ws, {"id": frame_id, "op": "msg.send", "data": item.payload})
            oldest = next(iter(self._sent_at.values()), None)
            if oldest is not None and time.monotonic() - oldest > self.request_timeout:
                log.warning("no ack in %.0fs: reconnecting to resend", self.request_timeout)
                await ws.close(code=1001, reason="ack timeout")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox_changed.wait(), 1.0)

    async def _heartbeat(self, ws: ClientConnection) -> None:
        """``ping`` when nothing was sent for ``heartbeat_interval`` (the server closes idle sockets)."""
        while True:
            wait = self.heartbeat_interval - (time.monotonic() - self._last_sent)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            try:
                await self.request("ping", {}, timeout=self.request_timeout)
            except RequestTimeout:
                log.warning("ping unanswered: reconnecting")
                await ws.close(code=1001, reason="ping timeout")
                return
            except IMError:
                return
