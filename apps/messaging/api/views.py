"""Thin REST views for conversations and messages: parse, call a service or selector, render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.serializers import UserIdField
from apps.accounts.authentication import request_claims, request_user
from apps.common import listsync, versionlog
from apps.common.api import TOKEN_ERRORS, OkSerializer, error_responses, ok, paginate_rows
from apps.common.errors import Code
from apps.common.listsync import since_field, snapshot_page, sync_answer, sync_schema
from apps.messaging import selectors, services
from apps.messaging.wire import message_wire

CONV_ERRORS = (Code.NOT_FOUND, Code.NO_PERMISSION, *TOKEN_ERRORS)


class MessageOutput(serializers.Serializer):
    server_msg_id = serializers.CharField()
    client_msg_id = serializers.CharField()
    conversation_id = serializers.CharField()
    seq = serializers.IntegerField()
    send_id = serializers.CharField()
    recv_id = serializers.CharField()
    group_id = serializers.CharField()
    session_type = serializers.IntegerField(help_text="1 single, 3 group, 4 notification")
    content_type = serializers.IntegerField()
    content = serializers.JSONField()
    send_time = serializers.IntegerField(help_text="ms since the epoch")
    status = serializers.IntegerField(help_text="2 sent, 4 deleted, 5 revoked")
    sender_platform_id = serializers.IntegerField()
    sender_nickname = serializers.CharField()
    sender_face_url = serializers.CharField()


class AckOutput(serializers.Serializer):
    server_msg_id = serializers.CharField()
    client_msg_id = serializers.CharField()
    conversation_id = serializers.CharField()
    seq = serializers.IntegerField()
    send_time = serializers.IntegerField()
    duplicate = serializers.BooleanField(help_text="true when this client_msg_id was stored before")


class ConversationOutput(serializers.Serializer):
    conversation_id = serializers.CharField()
    session_type = serializers.IntegerField()
    group_id = serializers.CharField()
    peer_id = serializers.CharField(help_text="the other user of a single chat")
    max_seq = serializers.IntegerField()
    min_seq = serializers.IntegerField()
    read_seq = serializers.IntegerField()
    unread_count = serializers.IntegerField()
    last_msg_time = serializers.IntegerField()
    is_pinned = serializers.BooleanField()
    recv_opt = serializers.IntegerField(help_text="0 normal, 1 reject, 2 receive without push")
    draft = serializers.CharField()
    draft_time = serializers.IntegerField()
    is_hidden = serializers.BooleanField()
    is_member = serializers.BooleanField(help_text="false for a group the user left: readable up to max_seq only")
    peer_read_seq = serializers.IntegerField(required=False, help_text="single chats: how far the peer has read")
    last_message = MessageOutput(allow_null=True)


class ConversationsApi(APIView):
    class Params(serializers.Serializer):
        include_hidden = serializers.BooleanField(required=False, default=False)
        since_version = since_field()

    def cache_prefetch(self, user_id: str) -> list[str]:
        """The list's version, read with the token (:func:`apps.common.listsync.prefetch`)."""
        return listsync.prefetch(versionlog.CONVERSATIONS, user_id)

    @extend_schema(
        tags=["conversations"],
        summary="My conversations, pinned first, then by last message, with unread counts",
        description=(
            "The paged answer carries the list's `version` and an `ETag` of its bytes (`If-None-Match` with the "
            "ETag answers 304). A page is reused for IM_CONVERSATION_LIST_CACHE_SECONDS (default 1) under the "
            "version: settings changes and my read marks show at once, new messages and the peers' reads (which do "
            "not bump the version) within those seconds. With `since_version` the answer is an incremental sync of the conversation "
            "settings and memberships (docs/protocol.md, incremental sync): hidden conversations are included "
            "(with is_hidden), `deleted` holds conversation ids; new messages travel by seq sync, not here."
        ),
        parameters=[Params, OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses={200: sync_schema("ConversationList", ConversationOutput), 304: None, **error_responses(*TOKEN_ERRORS)},
    )
    def get(self, request: Request) -> HttpResponse:
        params = self.Params(data=request.query_params)
        params.is_valid(raise_exception=True)
        user_id = request_user(request).user_id

        def render(page: list[selectors.ConversationRow]) -> list[dict[str, Any]]:
            items = selectors.conversation_items(user_id=user_id, rows=page)
            return selectors.conversations_decorate(user_id=user_id, items=items)

        since = params.validated_data.get("since_version")
        if since is not None:
            def items(ids: list[str] | None) -> list[dict[str, Any]]:
                rows = selectors.conversation_rows(user_id=user_id, include_hidden=True)
                wanted = None if ids is None else set(ids)
                return render([r for r in rows if wanted is None or r.conversation_id in wanted])

            return sync_answer(request, kind=versionlog.CONVERSATIONS, owner=user_id, since=since, render=items,
                               item_id=lambda item: str(item["conversation_id"]))

        def page() -> dict[str, Any]:
            rows = selectors.conversation_rows(user_id=user_id, include_hidden=params.validated_data["include_hidden"])
            data: dict[str, Any] = paginate_rows(self, request, rows, render, lambda: len(rows)).data
            return data

        return snapshot_page(request, kind=versionlog.CONVERSATIONS, owner=user_id, render=page,
                             seconds=settings.IM_CONVERSATION_LIST_CACHE_SECONDS)


class ConversationDetailApi(APIView):
    class Input(serializers.Serializer):
        is_pinned = serializers.BooleanField(required=False)
        recv_opt = serializers.ChoiceField(choices=[0, 1, 2], required=False)
        draft = serializers.CharField(required=False, allow_blank=True, max_length=4000)
        is_hidden = serializers.BooleanField(required=False)

    class Output(serializers.Serializer):
        conversation_id = serializers.CharField()
        read_seq = serializers.IntegerField()
        is_pinned = serializers.BooleanField()
        recv_opt = serializers.IntegerField()
        draft = serializers.CharField()
        draft_time = serializers.IntegerField()
        is_hidden = serializers.BooleanField()

    @extend_schema(
        tags=["conversations"],
        summary="Change my settings of a conversation: pin, receive option, draft, hide",
        request=Input,
        responses={200: Output, **error_responses(*CONV_ERRORS)},
        examples=[OpenApiExample("pin", value={"is_pinned": True}, request_only=True)],
    )
    def patch(self, request: Request, conversation_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.conversation_update(
            user_id=request_user(request).user_id, conversation_id=conversation_id, **data.validated_data
        )
        return Response(self.Output(row).data)


class ConversationReadApi(APIView):
    class Input(serializers.Serializer):
        seq = serializers.IntegerField(min_value=0, max_value=2**62)

    @extend_schema(
        tags=["conversations"],
        summary="Mark read up to seq (never lowers the read seq); the peer gets a read receipt",
        request=Input,
        responses={
            200: inline_serializer(
                "ReadOutput",
                {
                    "conversation_id": serializers.CharField(),
                    "read_seq": serializers.IntegerField(),
                    "max_seq": serializers.IntegerField(),
                },
            ),
            **error_responses(*CONV_ERRORS),
        },
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.conversation_read(
            user_id=request_user(request).user_id, conversation_id=conversation_id, seq=data.validated_data["seq"]
        )
        return Response(result)


class ConversationMessagesApi(APIView):
    class Params(serializers.Serializer):
        from_seq = serializers.IntegerField(required=False, min_value=0, max_value=2**62)
        to_seq = serializers.IntegerField(required=False, min_value=0, max_value=2**62)
        before_seq = serializers.IntegerField(required=False, min_value=0, max_value=2**62)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if "before_seq" in attrs and ("from_seq" in attrs or "to_seq" in attrs):
                raise serializers.ValidationError("use from_seq/to_seq or before_seq, not both")
            if "to_seq" in attrs and "from_seq" not in attrs:
                raise serializers.ValidationError("to_seq needs from_seq")
            return attrs

    @extend_schema(
        tags=["conversations"],
        summary="Message history of a conversation (ascending by seq)",
        description=(
            "`from_seq`[+`to_seq`]: a seq range; `before_seq`: the `limit` messages before it; "
            "neither: the latest `limit` messages. Revoked messages come with an empty content and status 5."
        ),
        parameters=[Params],
        responses={
            200: inline_serializer("MessageList", {"messages": MessageOutput(many=True)}),
            **error_responses(*CONV_ERRORS),
        },
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        params = self.Params(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = selectors.messages_history(
            user_id=request_user(request).user_id, conversation_id=conversation_id, **params.validated_data
        )
        return Response({"messages": [message_wire(m) for m in rows]})


class MessagesApi(APIView):
    class Input(serializers.Serializer):
        client_msg_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        session_type = serializers.ChoiceField(choices=[1, 3, 4])
        recv_id = UserIdField(required=False)
        group_id = serializers.CharField(max_length=64, required=False)
        content_type = serializers.IntegerField(min_value=1, max_value=100_000)
        content = serializers.JSONField()
        send_id = UserIdField(required=False, help_text="admins only: send on behalf of this user")
        sender_platform_id = serializers.IntegerField(
            required=False, min_value=0, max_value=100, default=0, help_text="admins only (others: the token's)"
        )

    @extend_schema(
        tags=["messages"],
        summary="Send a message (admins may send on behalf of any user, e.g. system messages)",
        description=(
            "Same rules as the websocket `msg.send`. `(send_id, client_msg_id)` is idempotent: a resend "
            "returns the original server_msg_id, seq and send_time and stores nothing."
        ),
        request=Input,
        responses={
            200: AckOutput,
            **error_responses(
                Code.NO_PERMISSION, Code.USER_NOT_FOUND, Code.BLOCKED_BY_PEER, Code.NOT_FRIENDS,
                Code.RECIPIENT_REJECTS, Code.GROUP_NOT_FOUND, Code.NOT_IN_GROUP, Code.GROUP_DISMISSED,
                Code.MUTED, Code.GROUP_MUTED, Code.RATE_LIMITED, *TOKEN_ERRORS,
            ),
        },
        examples=[
            OpenApiExample(
                "text",
                value={"client_msg_id": "c-1", "session_type": 1, "recv_id": "bob", "content_type": 101,
                       "content": {"content": "hello"}},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        result = services.message_send_by(
            actor=request_user(request),
            actor_platform_id=claims.platform_id if (claims := request_claims(request)) else 0,
            session_type=v["session_type"],
            content_type=v["content_type"],
            content=v["content"],
            client_msg_id=v["client_msg_id"],
            recv_id=v.get("recv_id", ""),
            group_id=v.get("group_id", ""),
            send_id=v.get("send_id", ""),
            sender_platform_id=v["sender_platform_id"],
        )
        return Response({**result.ack, "duplicate": result.duplicate})


class MessageRevokeApi(APIView):
    @extend_schema(
        tags=["messages"],
        summary="Revoke a message (sender within the window; group owner/admins and app admins any time)",
        request=None,
        responses={
            200: inline_serializer("RevokeOutput", {"notice": MessageOutput()}),
            **error_responses(
                Code.MESSAGE_NOT_FOUND, Code.NO_PERMISSION, Code.ALREADY_REVOKED, Code.REVOKE_WINDOW_PASSED,
                *TOKEN_ERRORS,
            ),
        },
    )
    def post(self, request: Request, server_msg_id: str) -> Response:
        notice = services.message_revoke(
            user_id=request_user(request).user_id, server_msg_id=server_msg_id, as_app_admin=request_user(request).is_app_admin
        )
        return Response({"notice": notice})


class MessageDeleteForMeApi(APIView):
    @extend_schema(
        tags=["messages"],
        summary="Delete a message for me only (my pulls and history show a placeholder / skip it)",
        request=None,
        responses={200: OkSerializer, **error_responses(Code.MESSAGE_NOT_FOUND, *TOKEN_ERRORS)},
    )
    def post(self, request: Request, server_msg_id: str) -> Response:
        services.message_delete_for_me(user_id=request_user(request).user_id, server_msg_id=server_msg_id)
        return ok()
