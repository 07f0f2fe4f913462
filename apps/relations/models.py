"""Friend requests, friendships (one row per direction) and the blacklist."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.common.choices import HandleResult


class AddSource(models.IntegerChoices):
    IMPORT = 1, "admin import"
    REQUEST = 2, "friend request"


def _user_fk(related_name: str, db_column: str) -> models.ForeignKey:
    # keyed by the app's user_id string, so reads by user id need no join
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        to_field="user_id",
        db_column=db_column,
        on_delete=models.CASCADE,
        related_name=related_name,
    )


class FriendRequest(models.Model):
    """One row per (from, to) pair; asking again after a refusal reopens it."""

    from_user = _user_fk("friend_requests_sent", "from_user_id")
    to_user = _user_fk("friend_requests_received", "to_user_id")
    message = models.CharField(max_length=255, blank=True)
    handle_result = models.SmallIntegerField(choices=HandleResult.choices, default=HandleResult.PENDING)
    handle_msg = models.CharField(max_length=255, blank=True)
    handler_user_id = models.CharField(max_length=64, blank=True)
    ex = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["from_user", "to_user"], name="friend_request_pair")]
        indexes = [models.Index(fields=["to_user", "handle_result", "created_at"], name="friend_request_to")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_user_id} -> {self.to_user_id} ({self.get_handle_result_display()})"


class Friend(models.Model):
    """``owner`` has ``friend`` in their friend list (each side has its own row)."""

    owner = _user_fk("friends", "owner_user_id")
    friend = _user_fk("friend_of", "friend_user_id")
    remark = models.CharField(max_length=64, blank=True)
    is_pinned = models.BooleanField(default=False)
    add_source = models.SmallIntegerField(choices=AddSource.choices, default=AddSource.REQUEST)
    operator_user_id = models.CharField(max_length=64, blank=True)
    ex = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "friend"], name="friend_pair")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.owner_id} -> {self.friend_id}"


class Black(models.Model):
    """``owner`` blocks ``blocked`` (one way)."""

    owner = _user_fk("blacklist", "owner_user_id")
    blocked = _user_fk("blocked_by", "block_user_id")
    operator_user_id = models.CharField(max_length=64, blank=True)
    ex = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "blocked"], name="black_pair")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.owner_id} blocks {self.blocked_id}"
