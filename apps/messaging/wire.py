"""The message as clients see it: its fields, its conversation id, its ack (DESIGN §3, §7).

The one definition of a ``<message>`` (push, pull, history, export), of the ``msg.send``
ack and of every websocket op's reply (requests are parsed into the records of
:mod:`apps.messaging.protocol`). They are ``TypedDict`` records: checked by the type checker, and plain dicts at run
time, so the hot path builds them and encodes them with ``orjson`` at no extra cost and the
wire format is exactly the dict's. :data:`MESSAGE_FIELDS` (in wire order) is derived from
the declaration; nothing else spells the field list out.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict

from apps.messaging.models import Message, MsgStatus, SessionType


class WireMessage(TypedDict):
    """A stored message on the wire, in this key order."""

    server_msg_id: str
    client_msg_id: str
    conversation_id: str
    seq: int
    send_id: str
    recv_id: str
    group_id: str
    session_type: int
    content_type: int
    content: Any  # a JSON object; {} once revoked or deleted
    send_time: int
    status: int
    sender_platform_id: int
    sender_nickname: str
    sender_face_url: str


class SendAck(TypedDict):
    """The ``msg.send`` reply data (and the REST send answer)."""

    server_msg_id: str
    client_msg_id: str
    conversation_id: str
    seq: int
    send_time: int


# ------------------------------------------------- websocket op replies (docs/protocol.md)
class SendReply(SendAck):
    """``msg.send``: the ack, and whether the message had been stored before (a resend)."""

    duplicate: bool


class SeqState(TypedDict):
    max_seq: int
    read_seq: int
    min_seq: int


class SeqNewestReply(TypedDict):
    """``seq.newest``."""

    conversations: dict[str, SeqState]


class PullReply(TypedDict):
    """``msg.pull``: stored wire JSON (``orjson.Fragment``) or placeholders, in seq order."""

    messages: list[Any]
    is_end: bool
    max_seq: int
    min_seq: int


class ReadReply(TypedDict):
    """``conv.read`` (and the REST read)."""

    conversation_id: str
    read_seq: int
    max_seq: int


class RevokeReply(TypedDict):
    """``msg.revoke``: the revoked message's place, and the 2101 notice left in its conversation."""

    conversation_id: str
    seq: int
    server_msg_id: str
    notice: WireMessage


class PingReply(TypedDict):
    server_time: int
    # ``{"conversation_id", "seq"}`` of the newest message pushed to the user, or None
    latest: dict[str, Any] | None


class PresenceState(TypedDict):
    online: bool
    platform_ids: list[int]


class PresenceWatchReply(TypedDict):
    """``presence.watch``."""

    users: dict[str, PresenceState]


class EmptyReply(TypedDict):
    """``typing``: nothing to say."""


MESSAGE_FIELDS: tuple[str, ...] = tuple(WireMessage.__annotations__)
ACK_FIELDS: tuple[str, ...] = tuple(SendAck.__annotations__)
SENDER_PROFILE_FIELDS = ("sender_nickname", "sender_face_url")  # a snapshot for display, not exported
# export columns: the message without the sender's profile snapshot, status last
EXPORT_FIELDS: tuple[str, ...] = (
    *(f for f in MESSAGE_FIELDS if f not in SENDER_PROFILE_FIELDS and f != "status"),
    "status",
)


def now_ms() -> int:
    return int(time.time() * 1000)


# ------------------------------------------------------------- conversation ids
def single_conversation_id(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return f"si_{x}_{y}"


def group_conversation_id(group_id: str) -> str:
    return f"sg_{group_id}"


def notification_conversation_id(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return f"n_{x}_{y}"


def conversation_id_of(*, session_type: int, send_id: str, recv_id: str = "", group_id: str = "") -> str:
    """The conversation a message goes to: ``si_<a>_<b>`` (1), ``sg_<group_id>`` (3), ``n_<a>_<b>`` (4)."""
    if session_type == SessionType.GROUP:
        return group_conversation_id(group_id)
    if session_type == SessionType.NOTIFICATION:
        return notification_conversation_id(send_id, recv_id)
    return single_conversation_id(send_id, recv_id)


# ---------------------------------------------------------------------- records
def ack_of(message: WireMessage | SendAck) -> SendAck:
    return {
        "server_msg_id": message["server_msg_id"],
        "client_msg_id": message["client_msg_id"],
        "conversation_id": message["conversation_id"],
        "seq": message["seq"],
        "send_time": message["send_time"],
    }


def message_wire(m: Message) -> WireMessage:
    """A history row as the wire ``<message>``."""
    return {
        "server_msg_id": m.server_msg_id,
        "client_msg_id": m.client_msg_id,
        "conversation_id": m.conversation_id,
        "seq": m.seq,
        "send_id": m.send_id,
        "recv_id": m.recv_id,
        "group_id": m.group_id,
        "session_type": m.session_type,
        "content_type": m.content_type,
        "content": {} if m.status != MsgStatus.SENT else m.content,
        "send_time": m.send_time,
        "status": m.status,
        "sender_platform_id": m.sender_platform_id,
        "sender_nickname": m.sender_nickname,
        "sender_face_url": m.sender_face_url,
    }


def placeholder(conversation_id: str, seq: int, server_msg_id: str = "") -> WireMessage:
    """Stands in for a seq that is missing, deleted, or deleted for this user, so the client can advance."""
    return {
        "server_msg_id": server_msg_id,
        "client_msg_id": "",
        "conversation_id": conversation_id,
        "seq": seq,
        "send_id": "",
        "recv_id": "",
        "group_id": "",
        "session_type": 0,
        "content_type": 0,
        "content": {},
        "send_time": 0,
        "status": int(MsgStatus.DELETED),
        "sender_platform_id": 0,
        "sender_nickname": "",
        "sender_face_url": "",
    }
