from __future__ import annotations

from rest_framework import serializers

from apps.accounts.api.serializers import UserPublicOutput
from apps.relations.models import Black, Friend, FriendRequest


class FriendRequestOutput(serializers.ModelSerializer):
    request_id = serializers.IntegerField(source="pk")
    from_user_id = serializers.CharField()
    to_user_id = serializers.CharField()
    from_user = UserPublicOutput()
    to_user = UserPublicOutput()

    class Meta:
        model = FriendRequest
        fields = [
            "request_id", "from_user_id", "to_user_id", "message", "handle_result", "handle_msg",
            "handler_user_id", "ex", "created_at", "handled_at", "from_user", "to_user",
        ]


class FriendOutput(serializers.ModelSerializer):
    owner_user_id = serializers.CharField(source="owner_id")
    friend_user_id = serializers.CharField(source="friend_id")
    friend_user = UserPublicOutput(source="friend")

    class Meta:
        model = Friend
        fields = [
            "owner_user_id", "friend_user_id", "remark", "is_pinned", "add_source", "operator_user_id", "ex",
            "created_at", "friend_user",
        ]


class BlackOutput(serializers.ModelSerializer):
    owner_user_id = serializers.CharField(source="owner_id")
    block_user_id = serializers.CharField(source="blocked_id")
    block_user = UserPublicOutput(source="blocked")

    class Meta:
        model = Black
        fields = ["owner_user_id", "block_user_id", "operator_user_id", "ex", "created_at", "block_user"]
