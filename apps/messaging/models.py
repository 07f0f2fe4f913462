"""Conversations, per-user conversation state, message history and the offline store.

Rows are keyed by the public string ids (``user_id``, ``group_id``, ``conversation_id``),
not by foreign keys: the send path writes them with a fixed handful of set-wise SQL
statements per batch (see :mod:`apps.messaging.seq` and :mod:`apps.messaging.services.send`).
Columns the raw statements leave out carry database defaults (``db_default``).
"""

from __future__ import annotations

from django.db import models


class SessionType(models.IntegerChoices):
    SINGLE = 1, "single chat"
    GROUP = 3, "group chat"
    NOTIFICATION = 4, "notification"


class MsgStatus(models.IntegerChoices):
    """OpenIM's numbering (2 sent, 4 deleted) plus 5 revoked."""

    SENT = 2, "sent"
    DELETED = 4, "deleted"
    REVOKED = 5, "revoked"


class ContentType(models.IntegerChoices):
    TEXT = 101, "text"
    PICTURE = 102, "picture"
    VOICE = 103, "voice"
    VIDEO = 104, "video"
    FILE = 105, "file"
    AT_TEXT = 106, "@-text"
    MERGED = 107, "merged"
    CARD = 108, "card"
    LOCATION = 109, "location"
    CUSTOM = 110, "custom"
    QUOTE = 114, "quote"
    FACE = 115, "face"
    REVOKE = 2101, "revoke notice"
    READ_RECEIPT = 2200, "read receipt"


class RecvOpt(models.IntegerChoices):
    NORMAL = 0, "normal"
    REJECT = 1, "reject"
    NO_PUSH = 2, "receive, no push"


class Conversation(models.Model):
    """One append-only log: ``max_seq`` is the last seq handed out; ``min_seq`` the oldest kept offline."""

    conversation_id = models.CharField(max_length=140, unique=True)
    session_type = models.PositiveSmallIntegerField(choices=SessionType.choices)
    group_id = models.CharField(max_length=64, db_default="", blank=True, db_index=True)
    # the two participants of a single chat, sorted (user ids may contain "_", so the id alone is ambiguous)
    user_a = models.CharField(max_length=64, db_default="", blank=True)
    user_b = models.CharField(max_length=64, db_default="", blank=True)
    max_seq = models.BigIntegerField(db_default=0, default=0)
    min_seq = models.BigIntegerField(db_default=0, default=0)
    last_msg_time = models.BigIntegerField(db_default=0, default=0, help_text="ms")
    create_time = models.BigIntegerField(db_default=0, default=0, help_text="ms")

    class Meta:
        indexes = [models.Index(fields=["-last_msg_time"], name="conv_last_msg")]

    def __str__(self) -> str:
        return self.conversation_id


class UserConversation(models.Model):
    """A user's own state of one conversation (created on the first message)."""

    owner_id = models.CharField(max_length=64)
    conversation_id = models.CharField(max_length=140)
    session_type = models.PositiveSmallIntegerField(choices=SessionType.choices)
    read_seq = models.BigIntegerField(db_default=0, default=0)
    is_pinned = models.BooleanField(db_default=False, default=False)
    recv_opt = models.PositiveSmallIntegerField(db_default=0, default=0, choices=RecvOpt.choices)
    draft = models.CharField(max_length=4000, db_default="", default="", blank=True)
    draft_time = models.BigIntegerField(db_default=0, default=0)
    is_hidden = models.BooleanField(db_default=False, default=False)
    update_time = models.BigIntegerField(db_default=0, default=0)
    # a former group member reads the group's log up to this seq and no further (0: not frozen)
    frozen_max_seq = models.BigIntegerField(db_default=0, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "conversation_id"], name="userconv_owner_conv")]
        indexes = [models.Index(fields=["conversation_id"], name="userconv_conv")]

    def __str__(self) -> str:
        return f"{self.owner_id}:{self.conversation_id}"


class Message(models.Model):
    """The full, normalized history (admin, search, exports, the history API)."""

    server_msg_id = models.CharField(max_length=32, unique=True)
    client_msg_id = models.CharField(max_length=64)
    conversation_id = models.CharField(max_length=140)
    seq = models.BigIntegerField()
    send_id = models.CharField(max_length=64, db_index=True)
    recv_id = models.CharField(max_length=64, blank=True, default="")
    group_id = models.CharField(max_length=64, blank=True, default="")
    session_type = models.PositiveSmallIntegerField(choices=SessionType.choices)
    content_type = models.PositiveIntegerField()
    content = models.JSONField(default=dict)
    send_time = models.BigIntegerField(db_index=True, help_text="ms")
    sender_platform_id = models.PositiveSmallIntegerField(default=0)
    sender_nickname = models.CharField(max_length=64, blank=True, default="")
    sender_face_url = models.CharField(max_length=512, blank=True, default="")
    status = models.PositiveSmallIntegerField(default=MsgStatus.SENT, choices=MsgStatus.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation_id", "seq"], name="msg_conv_seq"),
            models.UniqueConstraint(fields=["send_id", "client_msg_id"], name="msg_send_client"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class MessageDeletion(models.Model):
    """A message a user deleted for themselves: pulled as a placeholder by that user only."""

    owner_id = models.CharField(max_length=64)
    conversation_id = models.CharField(max_length=140)
    seq = models.BigIntegerField()
    create_time = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner_id", "conversation_id", "seq"], name="msgdel_owner_conv_seq")
        ]

    def __str__(self) -> str:
        return f"{self.owner_id}:{self.conversation_id}#{self.seq}"


class OfflineMessage(models.Model):
    """The hot log clients pull from: the message already serialized for the wire."""

    conversation_id = models.CharField(max_length=140)
    seq = models.BigIntegerField()
    send_time = models.BigIntegerField(db_index=True, help_text="ms")
    payload = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation_id", "seq"], name="offline_conv_seq")]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"
