from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.api.serializers import UserPublicOutput
from apps.common.renderers import db_datetime_renderer
from apps.groups.models import Group, GroupMember, GroupRequest


class GroupOutput(serializers.ModelSerializer):
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = [
            "group_id", "name", "notification", "introduction", "face_url", "ex", "owner_user_id",
            "creator_user_id", "status", "need_verification", "look_member_info", "apply_member_friend",
            "member_count", "created_at", "updated_at", "notification_updated_at", "notification_user_id",
            "dismissed_at",
        ]

    @extend_schema_field(serializers.IntegerField())
    def get_member_count(self, obj: Group) -> int:
        count = getattr(obj, "member_count", None)
        if count is None:
            count = obj.members.count()
        return int(count)


class MemberOutput(serializers.ModelSerializer):
    group_id = serializers.CharField()
    user_id = serializers.CharField()
    user = UserPublicOutput()

    class Meta:
        model = GroupMember
        fields = [
            "group_id", "user_id", "role_level", "nickname", "face_url", "ex", "join_source", "inviter_user_id",
            "operator_user_id", "mute_end_time", "joined_at", "user",
        ]


def members_render(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """:func:`apps.groups.selectors.group_member_rows` rows as :class:`MemberOutput` renders them (the
    same keys, order and values; ``tests/groups`` checks the two agree), without a serializer per row."""
    dt = db_datetime_renderer()
    loads = orjson.loads
    return [
        {
            "group_id": group_id,
            "user_id": user_id,
            "role_level": role_level,
            "nickname": nickname,
            "face_url": face_url,
            "ex": loads(ex),
            "join_source": join_source,
            "inviter_user_id": inviter_user_id,
            "operator_user_id": operator_user_id,
            "mute_end_time": dt(mute_end_time),
            "joined_at": dt(joined_at),
            "user": {
                "user_id": user_id,
                "nickname": user_nickname,
                "face_url": user_face_url,
                "ex": loads(user_ex),
                "created_at": dt(user_created_at),
            },
        }
        for (group_id, user_id, role_level, nickname, face_url, ex, join_source, inviter_user_id, operator_user_id,
             mute_end_time, joined_at, user_nickname, user_face_url, user_ex, user_created_at) in rows
    ]


def joined_groups_render(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """:func:`apps.groups.selectors.joined_group_rows` rows as :class:`JoinedGroupOutput` renders them."""
    dt = db_datetime_renderer()
    loads = orjson.loads
    return [
        {
            "group": {
                "group_id": group_id,
                "name": name,
                "notification": notification,
                "introduction": introduction,
                "face_url": face_url,
                "ex": loads(ex),
                "owner_user_id": owner_user_id,
                "creator_user_id": creator_user_id,
                "status": status,
                "need_verification": need_verification,
                "look_member_info": look_member_info,
                "apply_member_friend": apply_member_friend,
                "member_count": int(member_count),
                "created_at": dt(created_at),
                "updated_at": dt(updated_at),
                "notification_updated_at": dt(notification_updated_at),
                "notification_user_id": notification_user_id,
                "dismissed_at": dt(dismissed_at),
            },
            "role_level": role_level,
            "joined_at": dt(joined_at),
            "mute_end_time": dt(mute_end_time),
        }
        for (group_id, name, notification, introduction, face_url, ex, owner_user_id, creator_user_id, status,
             need_verification, look_member_info, apply_member_friend, member_count, created_at, updated_at,
             notification_updated_at, notification_user_id, dismissed_at, role_level, joined_at, mute_end_time) in rows
    ]


class JoinedGroupOutput(serializers.Serializer):
    group = GroupOutput()
    role_level = serializers.IntegerField()
    joined_at = serializers.DateTimeField()
    mute_end_time = serializers.DateTimeField(allow_null=True)


class GroupRequestOutput(serializers.ModelSerializer):
    request_id = serializers.IntegerField(source="pk")
    group_id = serializers.CharField()
    group_name = serializers.CharField(source="group.name")
    user_id = serializers.CharField()
    user = UserPublicOutput()

    class Meta:
        model = GroupRequest
        fields = [
            "request_id", "group_id", "group_name", "user_id", "message", "join_source", "inviter_user_id",
            "handle_result", "handle_msg", "handler_user_id", "ex", "created_at", "handled_at", "user",
        ]
