"""Notifications as messages: the one door from relations/groups into the message log.

Friend events (content types 1201–1210) are stored for the users concerned
(session_type 1, ``recv_id``); group events (1501–1520) as tips in the group's
conversation (session_type 3, ``group_id``). The message log allocates the seq
inside the caller's transaction and pushes after commit, like any message.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

SINGLE = 1
GROUP = 3


class FriendNote(IntEnum):
    """Friend notification content types (OpenIM numbering)."""

    REQUEST_ACCEPTED = 1201
    REQUEST_REFUSED = 1202
    REQUEST = 1203
    FRIEND_ADDED = 1204
    FRIEND_DELETED = 1205
    REMARK_SET = 1206
    BLACK_ADDED = 1207
    BLACK_REMOVED = 1208
    FRIEND_INFO_UPDATED = 1209
    FRIENDS_INFO_UPDATE = 1210


class GroupNote(IntEnum):
    """Group notification content types (OpenIM numbering)."""

    CREATED = 1501
    INFO_SET = 1502
    JOIN_REQUEST = 1503
    MEMBER_QUIT = 1504
    REQUEST_ACCEPTED = 1505
    REQUEST_REFUSED = 1506
    OWNER_TRANSFERRED = 1507
    MEMBER_KICKED = 1508
    MEMBER_INVITED = 1509
    MEMBER_ENTER = 1510
    DISMISSED = 1511
    MEMBER_MUTED = 1512
    MEMBER_UNMUTED = 1513
    GROUP_MUTED = 1514
    GROUP_UNMUTED = 1515
    MEMBER_INFO_SET = 1516
    SET_TO_ADMIN = 1517
    SET_TO_MEMBER = 1518
    NOTICE_SET = 1519
    NAME_SET = 1520


def notification_store(
    *,
    send_id: str,
    session_type: int,
    content_type: int,
    content: dict[str, Any],
    recv_id: str | None = None,
    group_id: str | None = None,
) -> dict[str, Any]:
    """Store one notification message through the messaging service (in the caller's transaction)."""
    from apps.messaging.services import notification_store as store  # messaging imports relations/groups

    message = store(
        send_id=send_id,
        session_type=session_type,
        content_type=content_type,
        content=content,
        recv_id=recv_id,
        group_id=group_id,
    )
    for listener in _listeners:
        listener(message)
    return message


# called with every stored notification, inside the caller's transaction (the webhooks listen here)
_listeners: list[Callable[[dict[str, Any]], None]] = []


def notification_listen(listener: Callable[[dict[str, Any]], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def notify_user(*, send_id: str, recv_id: str, content_type: int, content: dict[str, Any]) -> dict[str, Any]:
    return notification_store(
        send_id=send_id, session_type=SINGLE, content_type=content_type, content=content, recv_id=recv_id
    )


def notify_group(*, send_id: str, group_id: str, content_type: int, content: dict[str, Any]) -> dict[str, Any]:
    return notification_store(
        send_id=send_id, session_type=GROUP, content_type=content_type, content=content, group_id=group_id
    )
