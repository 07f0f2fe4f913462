"""The websocket gateway at ``/ws/`` (protocol: docs/protocol.md).

Thin: parse a frame, call a service or selector, render the reply. Sends go through
the per-process batcher; reads and other writes take one ``database_sync_to_async``
hop each. ``dispatch`` skips Channels' per-event ``aclose_old_connections`` hop (it
would queue every push behind DB writes on the one sync thread); connections are
still recycled around every DB call by ``database_sync_to_async``.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from apps.accounts import presence
from apps.accounts.constants import PLATFORM_IDS
from apps.accounts.tokens import TokenClaims, kick_code, token_decode, token_holder
from apps.common import push
from apps.common.errors import Code, DomainError
from apps.common.metrics import WS_CONNECTIONS
from apps.common.sideeffects import user_group
from apps.messaging import housekeeping, protocol, selectors, services
from apps.messaging.batcher import get_batcher
from apps.messaging.models import SessionType
from apps.messaging.services.send import SendRequest
from apps.messaging.wire import (
    EmptyReply,
    PingReply,
    PresenceWatchReply,
    PullReply,
    ReadReply,
    RevokeReply,
    SendReply,
    SeqNewestReply,
    WireMessage,
    now_ms,
)

log = logging.getLogger(__name__)

_connections = 0
BAD_FRAME_WINDOW_SECONDS = 60.0


def connection_count() -> int:
    return _connections


def _validate(claims: TokenClaims) -> tuple[str, str]:
    """Revocation status and the user's (nickname, face_url): one cache read at connect when warm."""
    user = token_holder(claims)
    return user.nickname, user.face_url


def _peer_gone_errors() -> tuple[type[BaseException], ...]:
    """What the servers raise when the application writes to a socket its peer already closed
    (daphne: autobahn's ``Disconnected``; uvicorn: ``ClientDisconnected``, an ``OSError``)."""
    errors: list[type[BaseException]] = [ConnectionError]
    try:
        from autobahn.exception import Disconnected

        errors.append(Disconnected)
    except ImportError:  # not under daphne
        pass
    try:
        from uvicorn.protocols.utils import ClientDisconnected

        errors.append(ClientDisconnected)
    except ImportError:  # not under uvicorn
        pass
    return tuple(errors)


_PEER_GONE = _peer_gone_errors()


class GatewayConsumer(AsyncWebsocketConsumer):
    user_id: str | None = None
    platform_id = 0
    jti = ""
    nickname = ""
    face_url = ""
    _closed = False
    _counted = False
    _peer_gone = False
    _early_pushes: list[str] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def send_unless_gone(message: dict[str, Any]) -> None:
            # A peer that closed its socket is normal (a phone loses signal, a tab closes): the
            # reply or push meant for it is dropped quietly; the disconnect event follows.
            if self._peer_gone:
                return
            try:
                await send(message)
            except _PEER_GONE:
                self._peer_gone = True
                log.debug("peer of %s closed its socket; %s dropped", self.user_id, message.get("type"))

        await super().__call__(scope, receive, send_unless_gone)

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    # ------------------------------------------------------------- connect
    async def websocket_connect(self, message: dict[str, Any]) -> None:
        self._counted = False
        self._bad_frames = 0
        self._bad_since = 0.0
        self.last_rx = time.monotonic()
        # typing targets per conversation, made on the first typing frame (most sockets never send one)
        self._peers: dict[str, list[str]] | None = None
        self._typing_groups: dict[str, str] | None = None
        offered = list(self.scope.get("subprotocols") or [])
        self._subprotocol = protocol.SUBPROTOCOL if protocol.SUBPROTOCOL in offered else (offered[0] if offered else None)
        try:
            await self._authenticate(offered)
        except DomainError as exc:
            close = {
                Code.BAD_CONNECTION_ARGS: protocol.CLOSE_BAD_CONNECTION_ARGS,
                Code.TOO_MANY_CONNECTIONS: protocol.CLOSE_TOO_MANY_CONNECTIONS,
            }.get(exc.code, protocol.CLOSE_AUTH_FAILED)
            await self.accept(self._subprotocol)
            await self.send(text_data=protocol.error_frame(exc, op="connect"))
            await self.close(close)

    async def _authenticate(self, offered: list[str]) -> None:
        global _connections
        if _connections >= settings.IM_WS_MAX_CONNECTIONS:
            raise DomainError(Code.TOO_MANY_CONNECTIONS, "this server has too many connections; retry later")
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        sub_token, sub_platform = protocol.token_from_subprotocols(offered)
        token = (query.get("token") or [None])[0] or sub_token
        if not token:
            raise DomainError(Code.BAD_CONNECTION_ARGS, "token is missing (?token=... or the imtoken.* subprotocol)")
        platform: int | None = sub_platform
        raw_platform = (query.get("platform_id") or [None])[0]
        if raw_platform is not None:
            try:
                platform = int(raw_platform)
            except ValueError:
                platform = -1
        if platform is not None and platform not in PLATFORM_IDS:
            raise DomainError(Code.BAD_CONNECTION_ARGS, f"platform_id must be one of {sorted(PLATFORM_IDS)}")
        claims = token_decode(token)  # signature and expiry: no I/O
        if platform is not None and platform != claims.platform_id:
            raise DomainError(Code.BAD_CONNECTION_ARGS, "platform_id does not match the token's platform")
        # Join the user's push group *before* checking revocation, so a kick sent while
        # the check runs is not missed; events wait until this handler returns.
        group = user_group(claims.user_id)
        await self.channel_layer.group_add(group, self.channel_name)
        try:
            self.nickname, self.face_url = await database_sync_to_async(_validate)(claims)
        except DomainError:
            await self.channel_layer.group_discard(group, self.channel_name)
            raise
        self.user_id, self.platform_id, self.jti = claims.user_id, claims.platform_id, claims.jti
        await self.accept(self._subprotocol)
        self.last_rx = time.monotonic()  # idle from here on: the handshake's own time does not count
        _connections += 1
        WS_CONNECTIONS.inc()  # metrics hook
        self._counted = True
        # node pushes may come from the moment the connection is registered: they are held
        # back until the client has its "connected" frame, which always comes first
        self._early_pushes = []
        await housekeeping.register(self)  # idle timeout, presence refresh and node pushes, per process
        await self._presence("presence_connect")
        await self.send(
            text_data=protocol.reply(
                None,
                "connected",
                data={"user_id": self.user_id, "platform_id": self.platform_id, "server_time": now_ms()},
            )
        )
        early, self._early_pushes = self._early_pushes, None
        for frame in early:
            await self.push_local(frame)

    async def disconnect(self, code: int) -> None:
        global _connections
        housekeeping.unregister(self)
        if self._counted:
            _connections -= 1
            WS_CONNECTIONS.dec()  # metrics hook
            self._counted = False
        if self.user_id is not None:
            await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
            await self._presence("presence_disconnect")

    async def _presence(self, name: str) -> None:
        """Register/refresh/drop this connection in the cross-node presence table (never fails the socket)."""
        fn = getattr(presence, name, None)
        if fn is None or self.user_id is None:
            return
        try:
            await sync_to_async(fn, thread_sensitive=False)(
                user_id=self.user_id, conn_id=self.channel_name, platform_id=self.platform_id
            )
        except Exception:
            log.exception("%s failed for %s", name, self.user_id)

    async def _close(self, code: int, reason: str | None = None) -> None:
        """Close from the server side; nothing more is sent or handled on this connection."""
        self._closed = True
        await self.close(code, reason)

    async def idle_close(self) -> None:
        """Called by the housekeeper when nothing arrived for ``IM_WS_IDLE_TIMEOUT_SECONDS``."""
        if not self._closed:
            await self._close(protocol.CLOSE_IDLE_TIMEOUT, "idle timeout")

    # ------------------------------------------------------------- frames
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_rx = time.monotonic()
        if self.user_id is None or self._closed:
            return
        if text_data is None:
            await self._bad(None, None, Code.BAD_FRAME, "binary frames are not supported; send JSON text")
            return
        limit = settings.IM_WS_MAX_FRAME_BYTES
        if len(text_data) > limit or (len(text_data) * 4 > limit and len(text_data.encode()) > limit):
            await self._bad(None, None, Code.FRAME_TOO_LARGE, f"frames are limited to {limit} bytes")
            return
        try:
            frame = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            await self._bad(None, None, Code.BAD_FRAME, "frame is not valid JSON")
            return
        if not isinstance(frame, dict):
            await self._bad(None, None, Code.BAD_FRAME, "frame must be a JSON object")
            return
        frame_id = frame.get("id")
        if frame_id is not None and (isinstance(frame_id, bool) or not isinstance(frame_id, str | int)):
            await self._bad(None, None, Code.BAD_FRAME, "id must be a string or an integer")
            return
        op = frame.get("op")
        if not isinstance(op, str):
            await self._bad(frame_id, None, Code.BAD_FRAME, "op must be a string")
            return
        data = frame.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            await self._bad(frame_id, op, Code.BAD_FRAME, "data must be a JSON object")
            return
        handler = self._ops.get(op)
        if handler is None:
            await self._bad(frame_id, op, Code.UNKNOWN_OP, f"unknown op {op[:40]!r}; ops: {', '.join(protocol.OPS)}")
            return
        try:
            result = await handler(self, data)
        except DomainError as exc:
            await self.send(text_data=protocol.error_frame(exc, frame_id, op))
            return
        except Exception:
            log.exception("op %s failed", op)
            await self.send(text_data=protocol.reply(frame_id, op, int(Code.INTERNAL), "internal error"))
            return
        await self.send(text_data=protocol.reply(frame_id, op, data=result))

    async def _bad(self, frame_id: Any, op: str | None, code: Code, msg: str) -> None:
        """Answer a bad frame; ``IM_WS_MAX_BAD_FRAMES`` of them within a minute close the connection."""
        now = time.monotonic()
        if now - self._bad_since > BAD_FRAME_WINDOW_SECONDS:
            self._bad_since, self._bad_frames = now, 0
        self._bad_frames += 1
        await self.send(text_data=protocol.reply(frame_id, op, int(code), msg))
        if self._bad_frames >= settings.IM_WS_MAX_BAD_FRAMES:
            await self.send(
                text_data=protocol.reply(None, "error", int(code), "too many bad frames; closing the connection")
            )
            await self._close(protocol.CLOSE_TOO_MANY_BAD_FRAMES, "too many bad frames")

    # ---------------------------------------------------------------- ops
    async def op_send(self, data: dict[str, Any]) -> SendReply:
        parsed = protocol.parse_send(data, user_id=self.user_id or "")
        req = SendRequest(
            send_id=self.user_id or "",
            session_type=parsed.session_type,
            content_type=parsed.content_type,
            content=parsed.content,
            client_msg_id=parsed.client_msg_id,
            recv_id=parsed.recv_id,
            group_id=parsed.group_id,
            sender_platform_id=self.platform_id,
            sender_nickname=self.nickname,
            sender_face_url=self.face_url,
            origin=self.channel_name,
        )
        result = await get_batcher().submit(req)
        if isinstance(result, DomainError):
            raise result
        return SendReply(**result.ack, duplicate=result.duplicate)

    async def op_seq_newest(self, data: dict[str, Any]) -> SeqNewestReply:
        conversations = await database_sync_to_async(selectors.seq_newest)(user_id=self.user_id)
        return {"conversations": conversations}

    async def op_pull(self, data: dict[str, Any]) -> PullReply:
        p = protocol.parse_pull(data)
        result = await database_sync_to_async(selectors.messages_pull)(
            user_id=self.user_id,
            conversation_id=p.conversation_id,
            from_seq=p.from_seq,
            to_seq=p.to_seq,
            seqs=p.seqs,
            limit=p.limit,
        )
        pulled: PullReply = result.as_data()
        return pulled

    async def op_read(self, data: dict[str, Any]) -> ReadReply:
        r = protocol.parse_read(data)
        receipt: ReadReply = await database_sync_to_async(services.conversation_read)(
            user_id=self.user_id, conversation_id=r.conversation_id, seq=r.seq
        )
        return receipt

    async def op_revoke(self, data: dict[str, Any]) -> RevokeReply:
        r = protocol.parse_revoke(data)
        notice: WireMessage = await database_sync_to_async(services.message_revoke)(
            user_id=self.user_id, server_msg_id=r.server_msg_id or None, conversation_id=r.conversation_id or None,
            seq=r.seq,
        )
        content = notice["content"]
        return {
            "conversation_id": notice["conversation_id"],
            "seq": content["seq"],
            "server_msg_id": content["server_msg_id"],
            "notice": notice,
        }

    async def op_typing(self, data: dict[str, Any]) -> EmptyReply:
        t = protocol.parse_typing(data)
        cid, typing = t.conversation_id, t.typing
        if self._peers is None or self._typing_groups is None:
            self._peers, self._typing_groups = {}, {}
        peers = self._peers.get(cid)
        if peers is None and cid not in self._typing_groups:
            conv, _role = await database_sync_to_async(selectors.conversation_for_user)(
                user_id=self.user_id, conversation_id=cid
            )
            if conv.session_type == SessionType.GROUP:
                self._typing_groups[cid] = conv.group_id
            else:
                peers = self._peers[cid] = selectors.peers_of(conv, self.user_id or "")
        if peers is None:  # a group: membership and receive options change, so ask every time (cached)
            peers = await database_sync_to_async(selectors.group_typing_targets)(
                user_id=self.user_id, group_id=self._typing_groups[cid]
            )
        payload = {"conversation_id": cid, "user_id": self.user_id, "typing": typing}
        await push.apush_to_users([*peers, self.user_id or ""], "push.typing", payload, skip=self.channel_name)
        return {}

    async def op_ping(self, data: dict[str, Any]) -> PingReply:
        # the newest message pushed to this user: a client that does not hold it missed a push
        return {"server_time": now_ms(), "latest": await push.alatest_hint(self.user_id or "")}

    async def op_presence_watch(self, data: dict[str, Any]) -> PresenceWatchReply:
        user_ids = protocol.parse_user_ids(data)
        status = await sync_to_async(presence.presence_watch, thread_sensitive=False)(
            watcher_id=self.user_id or "", user_ids=user_ids
        )
        return {"users": {uid: {"online": bool(p), "platform_ids": p} for uid, p in status.items()}}

    _ops = {
        "msg.send": op_send,
        "seq.newest": op_seq_newest,
        "msg.pull": op_pull,
        "conv.read": op_read,
        "msg.revoke": op_revoke,
        "typing": op_typing,
        "ping": op_ping,
        "presence.watch": op_presence_watch,
    }

    # ---------------------------------------------------- channel-layer events
    async def push_frame(self, event: dict[str, Any]) -> None:
        if event.get("skip") != self.channel_name and self.user_id is not None and not self._closed:
            await self.send(text_data=event["frame"])

    async def push_local(self, frame: str) -> None:
        """A node push (group fan-out) for this connection's user."""
        if self._early_pushes is not None:
            self._early_pushes.append(frame)
        elif self.user_id is not None and not self._closed:
            await self.send(text_data=frame)

    async def presence_change(self, event: dict[str, Any]) -> None:
        if self.user_id is not None and not self._closed:
            data = {k: event.get(k) for k in ("user_id", "online", "platform_ids")}
            await self.send(text_data=push.push_frame("push.presence", data))

    async def session_kick(self, event: dict[str, Any]) -> None:
        if self.jti and not self._closed and self.jti in (event.get("jtis") or []):
            reason = str(event.get("reason") or "kicked")
            await self.send(
                text_data=protocol.reply(
                    None, "kicked", int(kick_code(reason)), "this session was ended", {"reason": reason}
                )
            )
            await self._close(protocol.CLOSE_KICKED, "kicked")
