from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.accounts.constants import PLATFORM_IDS
from apps.accounts.models import User, user_id_validator
from apps.common.renderers import datetime_renderer


class UserIdField(serializers.CharField):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("min_length", 1)
        super().__init__(validators=[user_id_validator], **kwargs)  # type: ignore[arg-type]


class PlatformIdField(serializers.ChoiceField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=sorted(PLATFORM_IDS), **kwargs)  # type: ignore[arg-type]


class ExField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        if len(str(value)) > 8192:
            raise serializers.ValidationError("must be under 8 KiB")
        return value


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="seconds until the token expires")
    user_id = serializers.CharField()
    platform_id = serializers.IntegerField()


class UserPublicOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["user_id", "nickname", "face_url", "ex", "created_at"]


class UserFullOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "user_id", "nickname", "face_url", "ex", "app_manager_level", "global_recv_msg_opt",
            "is_banned", "created_at", "updated_at",
        ]


def user_full_render(user: User) -> dict[str, Any]:
    """A user as :class:`UserFullOutput` renders it (the same keys, order and values) without
    building a serializer: ``GET /users/me`` answers this on every app start."""
    dt = datetime_renderer()
    return {
        "user_id": user.user_id,
        "nickname": user.nickname,
        "face_url": user.face_url,
        "ex": user.ex,
        "app_manager_level": user.app_manager_level,
        "global_recv_msg_opt": user.global_recv_msg_opt,
        "is_banned": user.is_banned,
        "created_at": dt(user.created_at),
        "updated_at": dt(user.updated_at),
    }


class UserProfileInput(serializers.Serializer):
    nickname = serializers.CharField(max_length=64, required=False, allow_blank=True)
    face_url = serializers.CharField(max_length=512, required=False, allow_blank=True)
    ex = ExField(required=False)
    global_recv_msg_opt = serializers.ChoiceField(
        choices=list(User._meta.get_field("global_recv_msg_opt").choices or []), required=False,
        help_text="0 normal, 1 reject all messages, 2 receive without push",
    )
