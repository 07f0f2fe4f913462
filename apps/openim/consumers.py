"""OpenIM's websocket gateway at ``/openim/ws`` for the JS SDK (``sdkType=js``).

Connect: ``?sendID&token&platformID&operationID&isBackground&isMsgResp&sdkType``; the
first frame is the text connection result ``{"errCode","errMsg","errDlt"}``. Then text
``{"type":"ping"}`` is answered with ``{"type":"pong"}``, and binary frames carry JSON
envelopes ``{reqIdentifier, msgIncr, sendID, operationID, data}`` whose ``data`` is
base64 protobuf; every request gets a binary reply with the same ``msgIncr``.

Pushes: the connection joins the same channel-layer user group and the same per-process
registry of live connections as the native gateway, so it receives exactly what a
native connection receives (``push.frame``, node pushes, ``session.kick``,
``presence.change``) and re-renders it in OpenIM's shapes (2001, 2002, 2005).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from google.protobuf.message import DecodeError

from apps.accounts.constants import PLATFORM_IDS
from apps.common.errors import Code, DomainError
from apps.openim import bridge, wire
from apps.openim.envelope import bad, error
from apps.openim.proto import pb

log = logging.getLogger(__name__)

GET_NEWEST_SEQ = 1001
PULL_BY_RANGE = 1002
SEND_MSG = 1003
PULL_BY_SEQ_LIST = 1005
GET_CONV_MAX_READ_SEQ = 1006
PULL_CONV_LAST_MESSAGE = 1007
PUSH_MSG = 2001
KICK_ONLINE = 2002
LOGOUT = 2003
SET_BACKGROUND = 2004
SUB_USER_ONLINE_STATUS = 2005

CLOSE_AUTH_FAILED = 4001
CLOSE_KICKED = 4003
CLOSE_BAD_FRAME = 4004
CLOSE_IDLE = 4005
MAX_SUBSCRIPTIONS = 1000


def _b64(message: Any) -> str:
    return base64.b64encode(message.SerializeToString()).decode()


def _reply(req_id: int, msg_incr: str, operation_id: str, *, data: Any = None, exc: DomainError | None = None) -> bytes:
    body: dict[str, Any] = {"reqIdentifier": req_id, "msgIncr": msg_incr, "operationID": operation_id,
                            "errCode": 0, "errMsg": "", "data": _b64(data) if data is not None else None}
    if exc is not None:
        err = error(exc)
        body["errCode"], body["errMsg"] = err["errCode"], err["errMsg"]
    return orjson.dumps(body)


def _connect_args(query: dict[str, list[str]]) -> tuple[str, str, int]:
    def one(key: str) -> str:
        return (query.get(key) or [""])[0]

    send_id, token, platform, operation_id = one("sendID"), one("token"), one("platformID"), one("operationID")
    if not send_id or not token or not operation_id:
        raise DomainError(Code.BAD_CONNECTION_ARGS, "sendID, token, platformID and operationID are required")
    try:
        platform_id = int(platform)
    except ValueError:
        platform_id = -1
    if platform_id not in PLATFORM_IDS:
        raise DomainError(Code.BAD_CONNECTION_ARGS, f"platformID must be one of {sorted(PLATFORM_IDS)}")
    if one("sdkType") not in ("", "js"):
        raise DomainError(Code.BAD_CONNECTION_ARGS, "only sdkType=js (JSON envelopes) is supported")
    if one("compression"):
        raise DomainError(Code.BAD_CONNECTION_ARGS, "compression is not supported")
    return send_id, token, platform_id


class OpenIMConsumer(AsyncWebsocketConsumer):
    user_id: str | None = None
    platform_id = 0
    jti = ""
    nickname = ""
    face_url = ""
    _closed = False
    _registered = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    # ------------------------------------------------------------- connect
    async def websocket_connect(self, message: dict[str, Any]) -> None:
        self.last_rx = time.monotonic()
        self._watching: set[str] = set()
        try:
            await self._authenticate()
        except DomainError as exc:
            await self.accept()
            await self.send(text_data=orjson.dumps(error(exc)).decode())
            await self.close(CLOSE_AUTH_FAILED)
            return
        await self.send(text_data='{"errCode":0,"errMsg":"","errDlt":""}')

    async def _authenticate(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        send_id, token, platform_id = _connect_args(query)
        claims = bridge.token_claims(token)
        if claims.user_id != send_id or claims.platform_id != platform_id:
            raise DomainError(Code.TOKEN_INVALID, "the token was issued for another userID or platformID")
        group = bridge.user_group(claims.user_id)
        await self.channel_layer.group_add(group, self.channel_name)  # before the check: no kick is missed
        try:
            user = await database_sync_to_async(bridge.user_for_claims)(claims, check=True)
        except DomainError:
            await self.channel_layer.group_discard(group, self.channel_name)
            raise
        self.user_id, self.platform_id, self.jti = claims.user_id, claims.platform_id, claims.jti
        self.nickname, self.face_url = user.nickname, user.face_url
        await self.accept()
        self.last_rx = time.monotonic()
        await bridge.live_register(self)
        self._registered = True
        await self._presence(bridge.presence_connect)

    async def disconnect(self, code: int) -> None:
        if self._registered:
            bridge.live_unregister(self)
            self._registered = False
        if self.user_id is not None:
            await self.channel_layer.group_discard(bridge.user_group(self.user_id), self.channel_name)
            await self._presence(bridge.presence_disconnect)
            if self._watching:
                watching, self._watching = list(self._watching), set()
                await self._quiet(bridge.presence_unwatch, watcher_id=self.user_id or "", user_ids=watching)

    async def _presence(self, fn: Callable[..., None]) -> None:
        await self._quiet(fn, user_id=self.user_id, conn_id=self.channel_name, platform_id=self.platform_id)

    async def _quiet(self, fn: Callable[..., Any], **kwargs: Any) -> None:
        try:
            await sync_to_async(fn, thread_sensitive=False)(**kwargs)
        except Exception:  # presence never fails the socket
            log.exception("%s failed for %s", getattr(fn, "__name__", fn), self.user_id)

    async def _close(self, code: int) -> None:
        self._closed = True
        await self.close(code)

    async def idle_close(self) -> None:
        if not self._closed:
            await self._close(CLOSE_IDLE)

    # ------------------------------------------------------------- frames
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_rx = time.monotonic()
        if self.user_id is None or self._closed:
            return
        if text_data is not None:
            await self._text(text_data)
            return
        await self._binary(bytes_data or b"")

    async def _text(self, text: str) -> None:
        """Heartbeat: ``{"type":"ping"}`` → ``{"type":"pong"}``; other text is not part of the protocol."""
        try:
            frame = orjson.loads(text)
        except orjson.JSONDecodeError:
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "ping":
            pong: dict[str, Any] = {"type": "pong"}
            if "body" in frame:
                pong["body"] = frame["body"]
            await self.send(text_data=orjson.dumps(pong).decode())
        elif not (isinstance(frame, dict) and frame.get("type") == "pong"):
            await self._close(CLOSE_BAD_FRAME)  # requests are binary frames (OpenIM closes too)

    async def _binary(self, raw: bytes) -> None:
        req_id, msg_incr, operation_id = 0, "", ""
        try:
            if len(raw) > settings.IM_WS_MAX_FRAME_BYTES:
                raise DomainError(Code.FRAME_TOO_LARGE, f"frames are limited to {settings.IM_WS_MAX_FRAME_BYTES} bytes")
            try:
                env = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise bad("the frame is not a JSON envelope") from exc
            if not isinstance(env, dict):
                raise bad("the frame must be a JSON object")
            rid, incr, op_id = env.get("reqIdentifier"), env.get("msgIncr"), env.get("operationID")
            req_id = rid if isinstance(rid, int) else 0
            msg_incr = incr if isinstance(incr, str) else ""
            operation_id = op_id if isinstance(op_id, str) else ""
            if env.get("sendID") != self.user_id:
                raise DomainError(Code.NO_PERMISSION, "sendID must be the connected user")
            handler = self._handlers.get(req_id)
            if handler is None:
                raise bad(f"reqIdentifier {req_id} is not supported")
            data = env.get("data") or ""
            try:
                payload = base64.b64decode(data, validate=True) if isinstance(data, str) else b""
            except (binascii.Error, ValueError) as exc:
                raise bad("data must be base64") from exc
            result = await handler(self, payload, operation_id)
        except DomainError as exc:
            await self.send(bytes_data=_reply(req_id, msg_incr, operation_id, exc=exc))
            return
        except DecodeError:
            await self.send(bytes_data=_reply(req_id, msg_incr, operation_id, exc=bad("data is not valid protobuf")))
            return
        except Exception:
            log.exception("OpenIM request %s failed", req_id)
            await self.send(bytes_data=_reply(req_id, msg_incr, operation_id, exc=DomainError(Code.INTERNAL)))
            return
        await self.send(bytes_data=_reply(req_id, msg_incr, operation_id, data=result))
        if req_id == LOGOUT:
            await self._close(1000)

    # ---------------------------------------------------------------- requests
    async def req_send(self, payload: bytes, operation_id: str) -> Any:
        msg = pb.MsgData.FromString(payload)
        content = wire.content_in(msg.content)
        if not isinstance(content, dict):
            raise bad("content must be UTF-8 JSON of an object")
        if msg.sessionType not in (1, 3):
            raise bad("sessionType must be 1 (single) or 3 (group)")
        ack = await bridge.message_send(
            send_id=self.user_id or "", session_type=msg.sessionType, content_type=msg.contentType, content=content,
            client_msg_id=msg.clientMsgID, recv_id=msg.recvID if msg.sessionType == 1 else "",
            group_id=msg.groupID if msg.sessionType == 3 else "", platform_id=self.platform_id,
            nickname=self.nickname, face_url=self.face_url, origin=self.channel_name,
        )
        return pb.SendMsgResp(serverMsgID=ack["server_msg_id"], clientMsgID=ack["client_msg_id"],
                              sendTime=ack["send_time"])

    async def req_pull_range(self, payload: bytes, operation_id: str) -> Any:
        req = pb.PullMessageBySeqsReq.FromString(payload)
        if len(req.seqRanges) > MAX_SUBSCRIPTIONS:
            raise bad("too many seqRanges")
        ranges = [(r.conversationID, r.begin, r.end, r.num) for r in req.seqRanges]
        found, ends = await database_sync_to_async(self._pull_ranges)(ranges)
        return wire.fill_maps(pb.PullMessageBySeqsResp(), found, ends)

    def _pull_ranges(self, ranges: list[tuple[str, int, int, int]]) -> tuple[dict, dict]:
        found: dict[str, list[dict[str, Any]]] = {}
        ends: dict[str, bool] = {}
        limit = bridge.pull_max_limit()
        for cid, begin, end, num in ranges:
            num = max(1, min(num or 100, limit))
            begin = max(begin, 1)
            if end - begin + 1 > num:
                begin = end - num + 1  # OpenIM answers the newest ``num`` of a longer range
            found[cid], ends[cid] = [], True
            if end < begin:
                continue
            found[cid], ends[cid] = self._pull_quiet(cid, from_seq=begin, to_seq=end, limit=num)
        return found, ends

    def _pull_quiet(self, cid: str, **kwargs: Any) -> tuple[list[dict[str, Any]], bool]:
        """A conversation the user cannot read, or whose seqs were purged, answers empty (its key stays)."""
        try:
            return bridge.pull(user_id=self.user_id or "", conversation_id=cid, **kwargs)
        except DomainError as exc:
            if exc.code in (Code.NOT_FOUND, Code.NO_PERMISSION, Code.SEQ_PURGED, Code.BAD_ARGS):
                return [], True
            raise

    async def req_pull_seqs(self, payload: bytes, operation_id: str) -> Any:
        req = pb.GetSeqMessageReq.FromString(payload)
        if len(req.conversations) > MAX_SUBSCRIPTIONS:
            raise bad("too many conversations")
        wanted = [(c.conversationID, [s for s in c.seqs if s > 0]) for c in req.conversations]
        found = await database_sync_to_async(self._pull_lists)(wanted)
        return wire.fill_maps(pb.GetSeqMessageResp(), found)

    def _pull_lists(self, wanted: list[tuple[str, list[int]]]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        limit = bridge.pull_max_limit()
        for cid, seqs in wanted:
            found[cid] = []
            for start in range(0, len(seqs), limit):
                messages, _ = self._pull_quiet(cid, seqs=seqs[start : start + limit], limit=limit)
                found[cid].extend(messages)
        return found

    async def req_max_read_seq(self, payload: bytes, operation_id: str) -> Any:
        req = pb.GetConversationsHasReadAndMaxSeqReq.FromString(payload)
        ids = list(req.conversationIDs) or None
        items = await database_sync_to_async(bridge.conversations)(user_id=self.user_id or "", conversation_ids=ids)
        resp = pb.GetConversationsHasReadAndMaxSeqResp()
        for c in items:
            resp.seqs[c["conversation_id"]].CopyFrom(
                pb.Seqs(maxSeq=c["max_seq"], hasReadSeq=c["read_seq"], maxSeqTime=c["last_msg_time"])
            )
        return resp

    async def req_newest_seq(self, payload: bytes, operation_id: str) -> Any:
        items = await database_sync_to_async(bridge.conversations)(user_id=self.user_id or "")
        resp = pb.GetMaxSeqResp()
        for c in items:
            resp.maxSeqs[c["conversation_id"]] = c["max_seq"]
        return resp

    async def req_logout(self, payload: bytes, operation_id: str) -> Any:
        return None

    async def req_background(self, payload: bytes, operation_id: str) -> Any:
        return None

    async def req_subscribe(self, payload: bytes, operation_id: str) -> Any:
        req = pb.SubUserOnlineStatus.FromString(payload)
        subscribe = list(dict.fromkeys(u for u in req.subscribeUserID if u))
        unsubscribe = [u for u in dict.fromkeys(req.unsubscribeUserID) if u]
        if len(self._watching) + len(subscribe) > MAX_SUBSCRIPTIONS:
            raise bad(f"at most {MAX_SUBSCRIPTIONS} users can be watched")
        if unsubscribe:
            await sync_to_async(bridge.presence_unwatch, thread_sensitive=False)(
                watcher_id=self.user_id or "", user_ids=unsubscribe
            )
            self._watching.difference_update(unsubscribe)
        resp = pb.SubUserOnlineStatusTips()
        if subscribe:
            status = await sync_to_async(bridge.presence_watch, thread_sensitive=False)(
                watcher_id=self.user_id or "", user_ids=subscribe
            )
            self._watching.update(subscribe)
            for uid in subscribe:
                resp.subscribers.add(userID=uid, onlinePlatformIDs=status.get(uid) or [])
        return resp

    _handlers: dict[int, Callable[[OpenIMConsumer, bytes, str], Awaitable[Any]]] = {
        SEND_MSG: req_send,
        PULL_BY_RANGE: req_pull_range,
        PULL_BY_SEQ_LIST: req_pull_seqs,
        GET_CONV_MAX_READ_SEQ: req_max_read_seq,
        GET_NEWEST_SEQ: req_newest_seq,
        LOGOUT: req_logout,
        SET_BACKGROUND: req_background,
        SUB_USER_ONLINE_STATUS: req_subscribe,
    }

    # ---------------------------------------------------- channel-layer events
    async def _push(self, push: pb.PushMessages) -> None:
        if push.msgs or push.notificationMsgs:
            frame = {"reqIdentifier": PUSH_MSG, "msgIncr": "", "operationID": f"push{time.time_ns()}",
                     "errCode": 0, "errMsg": "", "data": _b64(push)}
            await self.send(bytes_data=orjson.dumps(frame))

    async def _native(self, frame: str) -> None:
        """A native push frame ``{"op", "data"}`` re-rendered for OpenIM (ops it has no shape for are dropped)."""
        try:
            parsed = orjson.loads(frame)
        except orjson.JSONDecodeError:
            return
        op, data = parsed.get("op"), parsed.get("data")
        if not isinstance(data, dict):
            return
        if op == "push.msg":
            await self._push(wire.push_messages([data]))
        elif op == "push.read":
            await self._push(wire.read_receipt(data))

    async def push_frame(self, event: dict[str, Any]) -> None:
        if event.get("skip") != self.channel_name and self.user_id is not None and not self._closed:
            await self._native(event.get("frame") or "")

    async def push_local(self, frame: str) -> None:
        """A node push (group fan-out) for this connection's user."""
        if self.user_id is not None and not self._closed:
            await self._native(frame)

    async def presence_change(self, event: dict[str, Any]) -> None:
        if self.user_id is None or self._closed:
            return
        tips = pb.SubUserOnlineStatusTips()
        tips.subscribers.add(userID=str(event.get("user_id") or ""),
                             onlinePlatformIDs=[int(p) for p in event.get("platform_ids") or []])
        frame = {"reqIdentifier": SUB_USER_ONLINE_STATUS, "msgIncr": "", "operationID": "", "errCode": 0,
                 "errMsg": "", "data": _b64(tips)}
        await self.send(bytes_data=orjson.dumps(frame))

    async def session_kick(self, event: dict[str, Any]) -> None:
        if self.jti and not self._closed and self.jti in (event.get("jtis") or []):
            frame = {"reqIdentifier": KICK_ONLINE, "msgIncr": "", "operationID": "", "errCode": 0,
                     "errMsg": "", "data": None}
            await self.send(bytes_data=orjson.dumps(frame))
            await self._close(CLOSE_KICKED)
