"""Notifications as messages: the one door from relations/groups into the message log.

The content types of friend and group events, and two helpers over
:func:`apps.messaging.services.send.notification_send`.

Friend events (content types 1201–1210) are stored for the users concerned
(session_type 1, ``recv_id``); group events (1501–1520) as tips in the group's
conversation (session_type 3, ``group_id``). The message log allocates the seq
inside the caller's transaction and pushes after commit, like any message.
"""

from __future__ import annotations

from typing import Any

from apps.messaging.models import SessionType
from apps.messaging.notes import FriendNote as FriendNote
from apps.messaging.notes import GroupNote as GroupNote
from apps.messaging.services.send import notification_send
from apps.messaging.wire import WireMessage


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
