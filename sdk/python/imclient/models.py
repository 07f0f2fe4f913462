"""Typed records for everything the SDK hands out: messages, conversations, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SINGLE_CHAT = 1
GROUP_CHAT = 3
NOTIFICATION = 4

TEXT = 101
REVOKE_NOTICE = 2101

NOTIFICATION_NAMES = {
    1201: "friend request accepted", 1202: "friend request refused", 1203: "friend request", 1204: "friend added",
    1205: "friend deleted", 1206: "remark set", 1207: "blocked", 1208: "unblocked", 1209: "friend info updated",
    1210: "friends info updated",
    1501: "group created", 1502: "group info changed", 1503: "join request", 1504: "member quit",
    1505: "join request accepted", 1506: "join request refused", 1507: "owner transferred", 1508: "member kicked",
    1509: "members invited", 1510: "member joined", 1511: "group dismissed", 1512: "member muted",
    1513: "member unmuted", 1514: "group muted", 1515: "group unmuted", 1516: "member info changed",
    1517: "set to admin", 1518: "set to member", 1519: "group notice set", 1520: "group renamed",
    2101: "message revoked",
}

STATUS_SENT = 2
STATUS_DELETED = 4
STATUS_REVOKED = 5


@dataclass(frozen=True, slots=True)
class Message:
    """A ``<message>`` of docs/protocol.md, as pushed, pulled and stored."""

    conversation_id: str
    seq: int
    server_msg_id: str = ""
    client_msg_id: str = ""
    send_id: str = ""
    recv_id: str = ""
    group_id: str = ""
    session_type: int = 0
    content_type: int = 0
    content: dict[str, Any] = field(default_factory=dict)
    send_time: int = 0
    status: int = STATUS_SENT
    sender_platform_id: int = 0
    sender_nickname: str = ""
    sender_face_url: str = ""

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Message:
        content = data.get("content")
        return cls(
            conversation_id=str(data["conversation_id"]),
            seq=int(data["seq"]),
            server_msg_id=str(data.get("server_msg_id") or ""),
            client_msg_id=str(data.get("client_msg_id") or ""),
            send_id=str(data.get("send_id") or ""),
            recv_id=str(data.get("recv_id") or ""),
            group_id=str(data.get("group_id") or ""),
            session_type=int(data.get("session_type") or 0),
            content_type=int(data.get("content_type") or 0),
            content=content if isinstance(content, dict) else {},
            send_time=int(data.get("send_time") or 0),
            status=int(data.get("status") or STATUS_SENT),
            sender_platform_id=int(data.get("sender_platform_id") or 0),
            sender_nickname=str(data.get("sender_nickname") or ""),
            sender_face_url=str(data.get("sender_face_url") or ""),
        )

    @property
    def is_placeholder(self) -> bool:
        """Stands in for a seq whose message is missing or deleted: only there to let the client advance."""
        return self.status == STATUS_DELETED

    @property
    def is_revoked(self) -> bool:
        return self.status == STATUS_REVOKED

    @property
    def text(self) -> str:
        """The text of a text (101) or @-text (106) message, else a short description (revoked, deleted, a notice)."""
        if self.is_revoked:
            return "(revoked)"
        if self.is_placeholder:
            return "(deleted)"
        if self.content_type == TEXT:
            return str(self.content.get("content", ""))
        if "text" in self.content:
            return str(self.content["text"])
        if self.content_type in NOTIFICATION_NAMES:
            return f"({NOTIFICATION_NAMES[self.content_type]})"
        return f"[{self.content_type}]"


@dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation as the local store knows it."""

    conversation_id: str
    session_type: int
    peer_id: str
    group_id: str
    max_seq: int
    read_seq: int
    min_seq: int
    local_max: int
    peer_read_seq: int
    is_pinned: bool
    recv_opt: int
    is_member: bool
    last_message: Message | None

    @property
    def unread(self) -> int:
        return max(0, max(self.max_seq, self.local_max) - self.read_seq)

    @property
    def title(self) -> str:
        return self.peer_id or self.group_id or self.conversation_id


ConnectionStateName = Literal["connecting", "connected", "disconnected", "closed"]


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event from ``Client.events()``."""


@dataclass(frozen=True, slots=True)
class MessageReceived(Event):
    """A message became part of the local store's contiguous log (pushed, pulled, or an own send acked)."""

    message: Message


@dataclass(frozen=True, slots=True)
class MessageRevoked(Event):
    conversation_id: str
    seq: int
    server_msg_id: str
    revoker_id: str


@dataclass(frozen=True, slots=True)
class MessageDeleted(Event):
    """An operator deleted the message for everyone: the store now holds a placeholder."""

    conversation_id: str
    seq: int
    server_msg_id: str


@dataclass(frozen=True, slots=True)
class ConversationChanged(Event):
    conversation: Conversation


@dataclass(frozen=True, slots=True)
class ReadByPeer(Event):
    conversation_id: str
    user_id: str
    read_seq: int


@dataclass(frozen=True, slots=True)
class Typing(Event):
    conversation_id: str
    user_id: str
    typing: bool


@dataclass(frozen=True, slots=True)
class PresenceChanged(Event):
    user_id: str
    online: bool
    platform_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Notification(Event):
    """A push-only event with no seq (e.g. 1209 friend info updated)."""

    content_type: int
    content: dict[str, Any]
    send_time: int


@dataclass(frozen=True, slots=True)
class Kicked(Event):
    """The server ended this session; the client closes and does not reconnect with the token."""

    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionState(Event):
    state: ConnectionStateName
    attempt: int = 0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SyncFinished(Event):
    """A catch-up finished: the store holds everything the server had when it started."""

    conversations: int
    messages: int
