"""Notifications as messages: the one door from relations/groups into the message log.

The content types of friend and group events, and two helpers over
:func:`apps.messaging.services.send.notification_send`.

Friend events (content types 1201–1210) are stored for the users concerned
(session_type 1, ``recv_id``); group events (1501–1520) as tips in the group's
conversation (session_type 3, ``group_id``). The message log allocates the seq
inside the caller's transaction and pushes after commit, like any message.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from apps.messaging.models import SessionType
from apps.messaging.services.send import notification_send
from apps.messaging.wire import WireMessage


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


def notify_user(*, send_id: str, recv_id: str, content_type: int, content: dict[str, Any]) -> WireMessage:
    """A friend event in the single chat of ``send_id`` and ``recv_id`` (in the caller's transaction)."""
    return notification_send(
        send_id=send_id, session_type=SessionType.SINGLE, content_type=content_type, content=content, recv_id=recv_id
    )


def notify_group(*, send_id: str, group_id: str, content_type: int, content: dict[str, Any]) -> WireMessage:
    """A group event as a tip in the group's conversation (in the caller's transaction)."""
    return notification_send(
        send_id=send_id, session_type=SessionType.GROUP, content_type=content_type, content=content, group_id=group_id
    )
