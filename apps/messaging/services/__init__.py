"""The messaging services: every write to the message log.

- :mod:`.send`: ``messages_send`` (a batch, the websocket path), ``message_send`` and
  ``message_send_by`` (one message: REST, admin), ``notification_send`` (a trusted notice
  inside the caller's transaction: friend and group events, revoke notices);
- :mod:`.actions`: ``message_revoke``, ``message_delete``, ``message_delete_for_me``,
  ``conversation_read``, ``conversation_update``, ``conversation_members_init`` /
  ``conversation_members_leave`` (a group member's view of the log).
"""

from apps.messaging.services.actions import (
    conversation_members_init,
    conversation_members_leave,
    conversation_read,
    conversation_update,
    message_delete,
    message_delete_for_me,
    message_revoke,
)
from apps.messaging.services.send import (
    SendRequest,
    SendResult,
    message_send,
    message_send_by,
    messages_send,
    notification_send,
)

__all__ = [
    "SendRequest",
    "SendResult",
    "conversation_members_init",
    "conversation_members_leave",
    "conversation_read",
    "conversation_update",
    "message_delete",
    "message_delete_for_me",
    "message_revoke",
    "message_send",
    "message_send_by",
    "messages_send",
    "notification_send",
]
