from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from rest_framework import serializers

from apps.accounts.api.serializers import UserPublicOutput
from apps.common.renderers import db_datetime_renderer
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


def friends_render(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """:func:`apps.relations.selectors.friend_list_rows` rows as :class:`FriendOutput` renders them.

    The same keys, order and values, without a serializer or a model per row (the friend list
    renders 50 per request); ``tests/relations`` checks the two agree.
    """
    dt = db_datetime_renderer()
    loads = orjson.loads
    return [
        {
            "owner_user_id": owner_id,
            "friend_user_id": friend_id,
            "remark": remark,
            "is_pinned": bool(is_pinned),
            "add_source": add_source,
            "operator_user_id": operator_user_id,
            "ex": loads(ex),
            "created_at": dt(created_at),
            "friend_user": {
                "user_id": friend_id,
                "nickname": nickname,
                "face_url": face_url,
                "ex": loads(friend_ex),
                "created_at": dt(friend_created_at),
            },
        }
        for (owner_id, friend_id, remark, is_pinned, add_source, operator_user_id, ex, created_at,
             nickname, face_url, friend_ex, friend_created_at) in rows
    ]


class BlackOutput(serializers.ModelSerializer):
    owner_user_id = serializers.CharField(source="owner_id")
    block_user_id = serializers.CharField(source="blocked_id")
    block_user = UserPublicOutput(source="blocked")

    class Meta:
        model = Black
        fields = ["owner_user_id", "block_user_id", "operator_user_id", "ex", "created_at", "block_user"]
