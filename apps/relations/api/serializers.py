from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework import serializers

from apps.accounts.api.serializers import UserPublicOutput
from apps.common.renderers import datetime_renderer
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


def friends_render(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`apps.relations.selectors.friend_list_rows` rows as :class:`FriendOutput` renders them.

    The same keys, order and values, without a serializer per row (the friend list
    renders 50 per request); ``tests/relations`` checks the two agree.
    """
    dt = datetime_renderer()
    return [
        {
            "owner_user_id": row["owner_id"],
            "friend_user_id": row["friend_id"],
            "remark": row["remark"],
            "is_pinned": row["is_pinned"],
            "add_source": row["add_source"],
            "operator_user_id": row["operator_user_id"],
            "ex": row["ex"],
            "created_at": dt(row["created_at"]),
            "friend_user": {
                "user_id": row["friend_id"],
                "nickname": row["friend__nickname"],
                "face_url": row["friend__face_url"],
                "ex": row["friend__ex"],
                "created_at": dt(row["friend__created_at"]),
            },
        }
        for row in rows
    ]


class BlackOutput(serializers.ModelSerializer):
    owner_user_id = serializers.CharField(source="owner_id")
    block_user_id = serializers.CharField(source="blocked_id")
    block_user = UserPublicOutput(source="blocked")

    class Meta:
        model = Black
        fields = ["owner_user_id", "block_user_id", "operator_user_id", "ex", "created_at", "block_user"]
