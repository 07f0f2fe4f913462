"""The websocket protocol in one place: frames, close codes and the typed schema of every op.

Documented in ``docs/protocol.md``. A request is ``{"id", "op", "data"}``; the reply
echoes ``id`` and ``op`` with ``code``, ``msg`` and ``data``; a push is ``{"op", "data"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from apps.common.errors import Code, DomainError

SUBPROTOCOL = "imserver.v1"
TOKEN_SUBPROTOCOL_PREFIX = "imtoken."  # noqa: S105 - a prefix, not a secret
PLATFORM_SUBPROTOCOL_PREFIX = "implatform."

# close codes (4000-4999 are for applications)
CLOSE_AUTH_FAILED = 4001  # token expired / invalid / kicked / unknown (1501 1502 1506 1507)
CLOSE_BAD_CONNECTION_ARGS = 4002  # 1602
CLOSE_KICKED = 4003  # forced logout, ban, or kicked by a newer login
CLOSE_TOO_MANY_BAD_FRAMES = 4004
CLOSE_IDLE_TIMEOUT = 4005
CLOSE_TOO_MANY_CONNECTIONS = 4006  # 1601
CLOSE_INTERNAL = 1011

OPS = ("msg.send", "seq.newest", "msg.pull", "conv.read", "msg.revoke", "typing", "ping", "presence.watch")
MAX_WATCH_IDS = 500


def reply(frame_id: Any, op: str | None, code: int = 0, msg: str = "", data: Any = None) -> str:
    return orjson.dumps({"id": frame_id, "op": op, "code": code, "msg": msg, "data": data if data is not None else {}}).decode()


def error_frame(exc: DomainError, frame_id: Any = None, op: str | None = None) -> str:
    return reply(frame_id, op, int(exc.code), exc.msg, exc.data or None)


def token_from_subprotocols(offered: list[str]) -> tuple[str | None, int | None]:
    """``imtoken.<token with ':' written as '.'>`` and ``implatform.<id>`` (browsers cannot set headers)."""
    token: str | None = None
    platform: int | None = None
    for item in offered:
        if item.startswith(TOKEN_SUBPROTOCOL_PREFIX):
            token = item[len(TOKEN_SUBPROTOCOL_PREFIX) :].replace(".", ":")
        elif item.startswith(PLATFORM_SUBPROTOCOL_PREFIX):
            try:
                platform = int(item[len(PLATFORM_SUBPROTOCOL_PREFIX) :])
            except ValueError:
                platform = -1
    return token, platform


# ----------------------------------------------------------------------- schemas
def _bad(msg: str) -> DomainError:
    return DomainError(Code.BAD_ARGS, msg)


def _int(data: dict[str, Any], key: str, *, required: bool = True, default: int | None = None) -> int | None:
    value = data.get(key)
    if value is None:
        if required:
            raise _bad(f"data.{key} is required (an integer)")
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"data.{key} must be an integer")
    if not -(2**62) < value < 2**62:
        raise _bad(f"data.{key} is out of range")
    return value


def _str(data: dict[str, Any], key: str, *, required: bool = True, max_len: int = 140) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise _bad(f"data.{key} is required (a string)")
        return ""
    if not isinstance(value, str) or len(value) > max_len:
        raise _bad(f"data.{key} must be a string of at most {max_len} characters")
    return value


@dataclass(frozen=True)
class SendData:
    client_msg_id: str
    session_type: int
    recv_id: str
    group_id: str
    content_type: int
    content: dict[str, Any]


def parse_send(data: dict[str, Any], *, user_id: str) -> SendData:
    send_id = data.get("send_id")
    if send_id not in (None, "", user_id):
        raise DomainError(Code.NO_PERMISSION, "send_id must be your own user id (or left out)")
    content = data.get("content")
    if not isinstance(content, dict):
        raise _bad("data.content must be a JSON object")
    return SendData(
        client_msg_id=_str(data, "client_msg_id", max_len=64),
        session_type=_int(data, "session_type") or 0,
        recv_id=_str(data, "recv_id", required=False, max_len=64),
        group_id=_str(data, "group_id", required=False, max_len=64),
        content_type=_int(data, "content_type") or 0,
        content=content,
    )


@dataclass(frozen=True)
class PullData:
    conversation_id: str
    from_seq: int | None
    to_seq: int | None
    seqs: list[int] | None
    limit: int | None


def parse_pull(data: dict[str, Any]) -> PullData:
    cid = _str(data, "conversation_id")
    limit = _int(data, "limit", required=False)
    if "seqs" in data:
        seqs = data["seqs"]
        if not isinstance(seqs, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seqs):
            raise _bad("data.seqs must be a list of integers")
        return PullData(cid, None, None, seqs, limit)
    from_seq = _int(data, "from_seq")
    to_seq = _int(data, "to_seq")
    return PullData(cid, from_seq, to_seq, None, limit)


@dataclass(frozen=True)
class ReadData:
    conversation_id: str
    seq: int


def parse_read(data: dict[str, Any]) -> ReadData:
    return ReadData(_str(data, "conversation_id"), _int(data, "seq") or 0)


@dataclass(frozen=True)
class RevokeData:
    """By ``server_msg_id``, or by ``conversation_id`` and ``seq`` (the other fields empty)."""

    server_msg_id: str
    conversation_id: str
    seq: int | None


def parse_revoke(data: dict[str, Any]) -> RevokeData:
    server_msg_id = _str(data, "server_msg_id", required=False, max_len=64)
    if server_msg_id:
        return RevokeData(server_msg_id, "", None)
    return RevokeData("", _str(data, "conversation_id"), _int(data, "seq"))


@dataclass(frozen=True)
class TypingData:
    conversation_id: str
    typing: bool


def parse_typing(data: dict[str, Any]) -> TypingData:
    typing = data.get("typing", True)
    if not isinstance(typing, bool):
        raise _bad("data.typing must be true or false")
    return TypingData(_str(data, "conversation_id"), typing)


def parse_user_ids(data: dict[str, Any]) -> list[str]:
    ids = data.get("user_ids")
    if (
        not isinstance(ids, list)
        or not 1 <= len(ids) <= MAX_WATCH_IDS
        or not all(isinstance(u, str) and 0 < len(u) <= 64 for u in ids)
    ):
        raise _bad(f"data.user_ids must be a list of 1-{MAX_WATCH_IDS} user ids")
    return list(dict.fromkeys(ids))
