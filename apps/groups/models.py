"""Groups, their members (roles 100/60/20, mutes) and join requests."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from apps.common.choices import HandleResult

group_id_validator = RegexValidator(r"^[A-Za-z0-9_-]{1,64}$", "group_id is 1-64 characters of A-Z a-z 0-9 _ -")


class Role(models.IntegerChoices):
    OWNER = 100, "owner"
    ADMIN = 60, "admin"
    MEMBER = 20, "member"


class GroupStatus(models.IntegerChoices):
    NORMAL = 0, "normal"
    DISMISSED = 2, "dismissed"
    MUTED = 3, "muted"


class Verification(models.IntegerChoices):
    """How people get in (OpenIM ``needVerification``)."""

    APPLY_NEEDS_APPROVAL = 0, "requests need approval, invitations join directly"
    ALL_NEED_APPROVAL = 1, "all need approval unless invited by owner/admin"
    DIRECT = 2, "join directly"


class JoinSource(models.IntegerChoices):
    ADMIN = 1, "admin"
    INVITATION = 2, "invitation"
    SEARCH = 3, "search"
    QR_CODE = 4, "qr code"


class Group(models.Model):
    group_id = models.CharField(max_length=64, primary_key=True, validators=[group_id_validator])
    name = models.CharField(max_length=128, db_index=True)
    notification = models.TextField(blank=True, help_text="group notice / announcement")
    introduction = models.TextField(blank=True)
    face_url = models.CharField(max_length=512, blank=True)
    ex = models.JSONField(default=dict, blank=True)
    owner_user_id = models.CharField(max_length=64, db_index=True)
    creator_user_id = models.CharField(max_length=64)
    status = models.SmallIntegerField(choices=GroupStatus.choices, default=GroupStatus.NORMAL, db_index=True)
    need_verification = models.SmallIntegerField(
        choices=Verification.choices, default=Verification.APPLY_NEEDS_APPROVAL
    )
    look_member_info = models.SmallIntegerField(default=0)
    apply_member_friend = models.SmallIntegerField(default=0)
    notification_updated_at = models.DateTimeField(null=True, blank=True)
    notification_user_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "group_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.group_id})"

    @property
    def is_dismissed(self) -> bool:
        return self.status == GroupStatus.DISMISSED


class GroupMember(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        to_field="user_id",
        db_column="user_id",
        on_delete=models.CASCADE,
        related_name="group_memberships",
    )
    role_level = models.SmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    nickname = models.CharField(max_length=64, blank=True, help_text="nickname inside the group")
    face_url = models.CharField(max_length=512, blank=True)
    ex = models.JSONField(default=dict, blank=True)
    join_source = models.SmallIntegerField(choices=JoinSource.choices, default=JoinSource.INVITATION)
    inviter_user_id = models.CharField(max_length=64, blank=True)
    operator_user_id = models.CharField(max_length=64, blank=True)
    mute_end_time = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="group_member_pair")]
        indexes = [
            models.Index(fields=["group", "role_level"], name="group_member_role"),
            models.Index(fields=["user", "group"], name="group_member_user"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id} ({self.role_level})"


class GroupRequest(models.Model):
    """A request to join a group; one row per (group, user), reopened on a new request."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        to_field="user_id",
        db_column="user_id",
        on_delete=models.CASCADE,
        related_name="group_requests",
    )
    message = models.CharField(max_length=255, blank=True)
    join_source = models.SmallIntegerField(choices=JoinSource.choices, default=JoinSource.SEARCH)
    inviter_user_id = models.CharField(max_length=64, blank=True)
    handle_result = models.SmallIntegerField(choices=HandleResult.choices, default=HandleResult.PENDING)
    handle_msg = models.CharField(max_length=255, blank=True)
    handler_user_id = models.CharField(max_length=64, blank=True)
    ex = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="group_request_pair")]
        indexes = [models.Index(fields=["group", "handle_result", "created_at"], name="group_request_pending")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.group_id} ({self.get_handle_result_display()})"
