"""Logic layer: the ``Client`` an app uses.

It ties the network layer (one websocket that reconnects and resends) to the storage layer
(SQLite keyed by seq): pushes, acks and pulls all go through ``Store.put_messages``, which
stores idempotently and releases a message to the app only once every seq below it is held.
A push or ack whose seq leaves a gap starts a pull of the gap; every (re)connect starts a
catch-up (``seq.newest`` + ``msg.pull`` of every conversation that is behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imclient import models
from imclient.errors import AuthError, ClientClosed, ConnectionLost, IMError, RequestTimeout
from imclient.models import (
    GROUP_CHAT,
    REVOKE_NOTICE,
    SINGLE_CHAT,
    STATUS_DELETED,
    STATUS_REVOKED,
    STATUS_SENT,
    TEXT,
    Conversation,
    Event,
    Message,
)
from imclient.network import Backoff, Connection, Inbound
from imclient.rest import Rest
from imclient.storage import Store

log = logging.getLogger("imclient")

PULL_PAGE = 500  # the server's default IM_PULL_MAX_LIMIT
_CLOSED = object()


class EventStream:
    """``async for event in client.events()``: every event from the moment it was created."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        client._subscribers.append(self._queue)
        if client._closed:
            self._queue.put_nowait(_CLOSED)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        item = await self._queue.get()
        if item is _CLOSED:
            self.close()
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self._client._subscribers.remove(self._queue)


class Client:
    """An imserver client for one user and device.

    ``async with Client(base_url, token) as client:`` connects (and starts catching up);
    leaving the block closes the connection and the store. Unacked sends stay in the store's
    outbox and go out again the next time the same ``db_path`` is opened.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        platform_id: int = 5,
        db_path: str | Path | None = None,
        heartbeat_interval: float = 25.0,
        request_timeout: float = 15.0,
        connect_timeout: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.platform_id = platform_id
        self.db_path = db_path
        self.user_id = ""
        self._token = token
        self._heartbeat_interval = heartbeat_interval
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._backoff = backoff
        self._subscribers: list[asyncio.Queue[Any]] = []
        self._callbacks: list[tuple[type[Event], Callable[[Any], Any]]] = []
        self._waiters: dict[str, asyncio.Future[Message]] = {}
        self._gap_want: dict[str, int] = {}
        self._gap_tasks: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.state: models.ConnectionStateName = "connecting"
        self.store: Store
        self.rest: Rest
        self._conn: Connection | None = None

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Client:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        self.store = Store(self.db_path)
        self.rest = Rest(self.base_url, self._token)
        self._inbound: asyncio.Queue[Inbound] = asyncio.Queue()
        self._ready = asyncio.Event()
        self._catch_up_lock = asyncio.Lock()
        self._processor = asyncio.get_running_loop().create_task(self._process(), name="imclient-processor")
        ws_url = "ws" + self.base_url[4:] + "/ws/" if self.base_url.startswith("http") else self.base_url + "/ws/"
        self._conn = Connection(
            ws_url, self._token, self.platform_id,
            on_inbound=self._inbound.put_nowait, on_connected=self._on_connected, on_state=self._on_state,
            heartbeat_interval=self._heartbeat_interval, request_timeout=self._request_timeout, backoff=self._backoff,
        )
        try:
            hello = await self._conn.start(self._connect_timeout)
            self.user_id = str(hello["user_id"])
            self.store.bind_user(self.user_id)
        except BaseException:
            await self.close()
            raise
        for cmid, payload in self.store.outbox():  # unacked sends of an earlier run
            self._conn.enqueue_send(cmid, payload)
        self._ready.set()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._conn is not None:
            await self._conn.close()
        for task in [*self._gap_tasks.values(), *self._tasks, getattr(self, "_processor", None)]:
            if task is not None:
                task.cancel()
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(ClientClosed())
                waiter.exception()
        self._waiters.clear()
        for queue in list(self._subscribers):
            queue.put_nowait(_CLOSED)
        if hasattr(self, "rest"):
            await self.rest.close()
        if hasattr(self, "store"):
            self.store.close()

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.connected

    # ------------------------------------------------------------------ events
    def events(self) -> EventStream:
        return EventStream(self)

    def on(self, event_type: type[Event], callback: Callable[[Any], Any]) -> None:
        """Call ``callback(event)`` for every event of ``event_type`` (a coroutine function is scheduled)."""
        self._callbacks.append((event_type, callback))

    def _emit(self, event: Event) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)
        for event_type, callback in self._callbacks:
            if isinstance(event, event_type):
                try:
                    result = callback(event)
                    if asyncio.iscoroutine(result):
                        self._spawn(result)
                except Exception:
                    log.exception("event callback failed")

    def _on_state(self, state: str, attempt: int, detail: str) -> None:
        self.state = state  # type: ignore[assignment]
        self._emit(models.ConnectionState(state, attempt, detail))  # type: ignore[arg-type]

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ reads from the store
    def history(self, conversation_id: str, limit: int = 50, before_seq: int | None = None) -> list[Message]:
        """Messages of the local store, oldest first: the ``limit`` newest below ``before_seq``."""
        return self.store.history(conversation_id, limit=limit, before_seq=before_seq)

    def conversations(self) -> list[Conversation]:
        """The local conversation list, pinned first then newest first, each with ``unread``."""
        return self.store.conversations()

    def conversation(self, conversation_id: str) -> Conversation | None:
        return self.store.conversation(conversation_id)

    # ------------------------------------------------------------------ sync
    async def sync(self) -> int:
        """Catch up: return once the store holds every message the server had when the call began.

        Also refreshes the conversation list's settings (pinned, receive option, membership)
        over REST. Survives reconnects (it starts over). Returns the number of messages pulled.
        """
        await self._ready.wait()
        while True:
            self._check_open()
            try:
                pulled = await self._catch_up()
                await self._sync_conversation_settings()
                return pulled
            except (ConnectionLost, RequestTimeout):
                await asyncio.sleep(0.2)

    async def _on_connected(self, hello: dict[str, Any]) -> None:
        await self._ready.wait()
        try:
            await self._catch_up()
        except (ConnectionLost, RequestTimeout, ClientClosed):
            return  # the next connect catches up again
        except IMError:
            log.exception("catch-up failed")

    async def _catch_up(self) -> int:
        async with self._catch_up_lock:
            conn = self._require_conn()
            newest = await conn.request("seq.newest", {})
            remote: dict[str, dict[str, Any]] = newest.get("conversations") or {}
            behind = []
            for cid, seqs in remote.items():
                max_seq, min_seq = int(seqs.get("max_seq") or 0), int(seqs.get("min_seq") or 0)
                self.store.update_seqs(cid, max_seq=max_seq, min_seq=min_seq, read_seq=int(seqs.get("read_seq") or 0))
                state = self.store.conv_state(cid)
                assert state is not None
                if min_seq > state.local_max + 1:
                    self.store.skip_below(cid, min_seq)
                if max_seq > max(state.local_max, min_seq - 1):
                    behind.append((cid, max(state.local_max + 1, min_seq), max_seq))
            limit = asyncio.Semaphore(4)

            async def pull(cid: str, lo: int, hi: int) -> int:
                async with limit:
                    return await self._pull_range(cid, lo, hi)

            counts = await asyncio.gather(*(pull(*b) for b in behind))
            for cid in remote:
                conv = self.store.conversation(cid)
                if conv is not None:
                    self._emit(models.ConversationChanged(conv))
            total = sum(counts)
            self._emit(models.SyncFinished(conversations=len(remote), messages=total))
            return total

    async def _pull_range(self, conversation_id: str, lo: int, hi: int) -> int:
        """Pull ``lo..hi`` page by page into the store; returns how many messages came."""
        conn = self._require_conn()
        pulled = 0
        while lo <= hi:
            try:
                data = await conn.request(
                    "msg.pull", {"conversation_id": conversation_id, "from_seq": lo, "to_seq": hi, "limit": PULL_PAGE}
                )
            except IMError as err:
                if err.code == 1406 and int(err.data.get("min_seq") or 0) > lo:  # purged: history API only
                    self.store.skip_below(conversation_id, int(err.data["min_seq"]))
                    lo = int(err.data["min_seq"])
                    continue
                raise
            batch = [Message.from_wire(m) for m in data.get("messages") or []]
            if batch:
                self._released(self.store.put_messages(batch))
                pulled += len(batch)
                lo = batch[-1].seq + 1
            if data.get("is_end", True) or not batch:
                break
        return pulled

    def _want_gap(self, conversation_id: str, up_to: int) -> None:
        """A seq above ``local_max + 1`` arrived: pull what lies between (once per conversation at a time)."""
        self._gap_want[conversation_id] = max(self._gap_want.get(conversation_id, 0), up_to)
        task = self._gap_tasks.get(conversation_id)
        if task is None or task.done():
            self._gap_tasks[conversation_id] = self._spawn(self._fill_gap(conversation_id))

    async def _fill_gap(self, conversation_id: str) -> None:
        try:
            while True:
                state = self.store.conv_state(conversation_id)
                target = self._gap_want.get(conversation_id, 0)
                if state is None or state.local_max >= target:
                    return
                before = state.local_max
                await self._pull_range(conversation_id, state.local_max + 1, target)
                after = self.store.conv_state(conversation_id)
                if after is None or after.local_max == before:
                    return  # nothing came (seqs above the server's max for us): the next catch-up decides
        except (ConnectionLost, RequestTimeout, ClientClosed):
            return  # the reconnect's catch-up covers it
        except IMError:
            log.exception("gap pull in %s failed", conversation_id)
        finally:
            self._gap_tasks.pop(conversation_id, None)

    # ------------------------------------------------------------------ inbound frames, in socket order
    async def _process(self) -> None:
        while True:
            item = await self._inbound.get()
            try:
                await self._ready.wait()
                self._handle(item)
            except Exception:
                log.exception("could not handle %s %s", item.kind, item.op)

    def _handle(self, item: Inbound) -> None:
        if item.kind == "ack":
            self._handle_ack(item.client_msg_id, item.data, item.payload)
        elif item.kind == "send_failed":
            if not isinstance(item.error, AuthError):  # refused for good; after an auth end it waits for a new token
                self.store.outbox_remove(item.client_msg_id)
            waiter = self._waiters.pop(item.client_msg_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(item.error or IMError(500, "send failed"))
        elif item.op == "push.msg":
            self._take(Message.from_wire(item.data))
        elif item.op == "push.msg.deleted":
            cid, seq = str(item.data.get("conversation_id")), int(item.data.get("seq") or 0)
            if self.store.mark_status(cid, seq, STATUS_DELETED):
                self._emit(models.MessageDeleted(cid, seq, str(item.data.get("server_msg_id") or "")))
                self._conversation_changed(cid)
        elif item.op == "push.read":
            cid, who, read_seq = str(item.data["conversation_id"]), str(item.data["user_id"]), int(item.data["read_seq"])
            if who == self.user_id:
                self.store.update_seqs(cid, read_seq=read_seq)
            else:
                self.store.update_seqs(cid, peer_read_seq=read_seq)
                self._emit(models.ReadByPeer(cid, who, read_seq))
            self._conversation_changed(cid)
        elif item.op == "push.typing":
            self._emit(models.Typing(str(item.data["conversation_id"]), str(item.data["user_id"]),
                                     bool(item.data.get("typing", True))))
        elif item.op == "push.presence":
            self._emit(models.PresenceChanged(str(item.data["user_id"]), bool(item.data.get("online")),
                                              tuple(int(p) for p in item.data.get("platform_ids") or [])))
        elif item.op == "push.notification":
            self._emit(models.Notification(int(item.data.get("content_type") or 0), dict(item.data.get("content") or {}),
                                           int(item.data.get("send_time") or 0)))
        elif item.op == "kicked":
            self._emit(models.Kicked(str(item.data.get("reason") or "")))

    def _handle_ack(self, cmid: str, ack: dict[str, Any], payload: dict[str, Any]) -> None:
        msg = Message(
            conversation_id=str(ack["conversation_id"]), seq=int(ack["seq"]), server_msg_id=str(ack["server_msg_id"]),
            client_msg_id=cmid, send_id=self.user_id, recv_id=str(payload.get("recv_id") or ""),
            group_id=str(payload.get("group_id") or ""), session_type=int(payload.get("session_type") or 0),
            content_type=int(payload.get("content_type") or 0), content=dict(payload.get("content") or {}),
            send_time=int(ack.get("send_time") or 0), status=STATUS_SENT, sender_platform_id=self.platform_id,
        )
        self.store.update_seqs(msg.conversation_id, read_seq=msg.seq)  # the server moved our read seq too
        self._take(msg)
        self.store.outbox_remove(cmid)
        waiter = self._waiters.pop(cmid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(self.store.message(msg.conversation_id, msg.seq) or msg)

    def _take(self, msg: Message) -> None:
        """A pushed or acked message: store it; release it now or after its gap is pulled."""
        state = self.store.conv_state(msg.conversation_id)
        local_max = state.local_max if state else 0
        if msg.seq <= local_max:
            if msg.status != STATUS_SENT:
                self.store.put_messages([msg])  # a later state of a held message
            return
        self.store.update_seqs(msg.conversation_id, max_seq=msg.seq)
        released = self.store.put_messages([msg])
        if msg.seq > local_max + 1 and not any(m.seq == msg.seq for m in released):
            self._want_gap(msg.conversation_id, msg.seq - 1)
        self._released(released)

    def _released(self, released: list[Message]) -> None:
        """Tell the app about messages that just became contiguous in the store."""
        touched: dict[str, None] = {}
        for msg in released:
            touched[msg.conversation_id] = None
            if msg.send_id == self.user_id and msg.send_id:
                self.store.update_seqs(msg.conversation_id, read_seq=msg.seq)
            if msg.content_type == REVOKE_NOTICE:
                seq = int(msg.content.get("seq") or 0)
                if seq and self.store.mark_status(msg.conversation_id, seq, STATUS_REVOKED):
                    self._emit(models.MessageRevoked(msg.conversation_id, seq, str(msg.content.get("server_msg_id") or ""),
                                                     str(msg.content.get("revoker_id") or "")))
            if not msg.is_placeholder:
                self._emit(models.MessageReceived(msg))
        for cid in touched:
            self._conversation_changed(cid)

    def _conversation_changed(self, conversation_id: str) -> None:
        conv = self.store.conversation(conversation_id)
        if conv is not None:
            self._emit(models.ConversationChanged(conv))

    # ------------------------------------------------------------------ sending
    async def send_text(self, to_user_id: str | None = None, group_id: str | None = None, *, text: str) -> Message:
        """Send a text message; returns it, with its seq, once the server acked it (it is then durable)."""
        return await self.send(TEXT, {"content": text}, to_user_id=to_user_id, group_id=group_id)

    async def send(self, content_type: int, content: dict[str, Any], *, to_user_id: str | None = None,
                   group_id: str | None = None, client_msg_id: str | None = None) -> Message:
        """Send any content type. The message is queued (and kept in the store's outbox) until the
        server answers it: across reconnects it is resent with the same ``client_msg_id``."""
        if (to_user_id is None) == (group_id is None):
            raise ValueError("give exactly one of to_user_id and group_id")
        self._check_open()
        conn = self._require_conn()
        cmid = client_msg_id or uuid.uuid4().hex
        payload: dict[str, Any] = {"client_msg_id": cmid, "content_type": content_type, "content": content}
        if to_user_id is not None:
            payload.update(session_type=SINGLE_CHAT, recv_id=to_user_id)
        else:
            payload.update(session_type=GROUP_CHAT, group_id=group_id)
        waiter = self._waiters.get(cmid)
        if waiter is None:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters[cmid] = waiter
        self.store.outbox_add(cmid, payload)
        conn.enqueue_send(cmid, payload)
        return await asyncio.shield(waiter)

    # ------------------------------------------------------------------ other ops
    async def mark_read(self, conversation_id: str, seq: int | None = None) -> int:
        """Mark the conversation read up to ``seq`` (default: everything held); returns the read seq."""
        conv = self.store.conversation(conversation_id)
        if seq is None:
            seq = max(conv.max_seq, conv.local_max) if conv else 0
        data = await self._require_conn().request("conv.read", {"conversation_id": conversation_id, "seq": seq})
        self.store.update_seqs(conversation_id, read_seq=int(data.get("read_seq") or 0),
                               max_seq=int(data.get("max_seq") or 0))
        self._conversation_changed(conversation_id)
        return int(data.get("read_seq") or 0)

    async def revoke(self, *, server_msg_id: str | None = None, conversation_id: str | None = None,
                     seq: int | None = None) -> Message:
        """Revoke a message; returns the revoke notice (content type 2101) the server appended."""
        if server_msg_id:
            data = await self._require_conn().request("msg.revoke", {"server_msg_id": server_msg_id})
        else:
            data = await self._require_conn().request("msg.revoke", {"conversation_id": conversation_id, "seq": seq})
        notice = Message.from_wire(data["notice"])
        self._take(notice)
        if self.store.mark_status(str(data["conversation_id"]), int(data["seq"]), STATUS_REVOKED):
            self._emit(models.MessageRevoked(str(data["conversation_id"]), int(data["seq"]),
                                             str(data.get("server_msg_id") or ""), self.user_id))
        return notice

    async def typing(self, conversation_id: str, typing: bool = True) -> None:
        await self._require_conn().request("typing", {"conversation_id": conversation_id, "typing": typing})

    async def watch_presence(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Online status of the users now; their changes then arrive as ``PresenceChanged`` events."""
        data = await self._require_conn().request("presence.watch", {"user_ids": list(user_ids)})
        return dict(data.get("users") or {})

    async def request(self, op: str, data: dict[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        """Any websocket op of docs/protocol.md, raw."""
        return await self._require_conn().request(op, data, timeout)

    # ------------------------------------------------------------------ lists over REST
    async def friends(self) -> list[dict[str, Any]]:
        """The friend list from the server, kept in the store (``self.store.list_items("friends")``)."""
        return await self._sync_list("friends", self.rest.friends, lambda f: str(f["friend_user_id"]))

    async def groups(self) -> list[dict[str, Any]]:
        """The groups this user is in, kept in the store."""
        return await self._sync_list("groups", self.rest.joined_groups, lambda g: str(g["group"]["group_id"]))

    async def _sync_list(self, name: str, fetch: Callable[[], Any], key: Callable[[dict[str, Any]], str]) -> list[dict[str, Any]]:
        # The server has no ``since_version`` yet: every call fetches the full list and replaces the
        # local copy. When it does, pass the stored ``self.store.sync_version(name)`` here and apply
        # the answer with ``store.apply_list_changes`` instead.
        items = await fetch()
        self.store.replace_list(name, {key(i): i for i in items})
        return list(items)

    async def _sync_conversation_settings(self) -> None:
        try:
            rows = await self.rest.conversations(include_hidden=True)
        except (IMError, OSError) as err:  # the messages are in; the settings can wait
            log.warning("conversation list not refreshed: %s", err)
            return
        for row in rows:
            cid = str(row["conversation_id"])
            self.store.ensure_conversation(cid, session_type=int(row.get("session_type") or 0),
                                           peer_id=str(row.get("peer_id") or ""), group_id=str(row.get("group_id") or ""))
            self.store.update_seqs(cid, max_seq=int(row.get("max_seq") or 0), min_seq=int(row.get("min_seq") or 0),
                                   read_seq=int(row.get("read_seq") or 0),
                                   peer_read_seq=int(row.get("peer_read_seq") or 0))
            self.store.update_settings(cid, is_pinned=bool(row.get("is_pinned")), recv_opt=int(row.get("recv_opt") or 0),
                                       is_member=bool(row.get("is_member", True)))

    # ------------------------------------------------------------------ helpers
    def _require_conn(self) -> Connection:
        if self._conn is None or self._closed:
            raise ClientClosed()
        return self._conn

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosed()
        if self._conn is not None and self._conn.end_error is not None:
            raise self._conn.end_error
