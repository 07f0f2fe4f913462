from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.api.serializers import UserPublicOutput
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
