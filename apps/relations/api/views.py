"""Thin REST views for friends, friend requests and the blacklist."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.serializers import ExField, UserIdField
from apps.accounts.authentication import request_user
from apps.accounts.permissions import IsAppAdmin
from apps.common import listsync, versionlog
from apps.common.api import AUTH_ERRORS as AUTH
from apps.common.api import (
    PAGE_PARAMS,
    OkSerializer,
    client_ip,
    error_responses,
    ok,
    paged,
    paginate,
    paginate_rows,
)
from apps.common.errors import Code, DomainError
from apps.common.listsync import cached_page, since_field, sync_answer, sync_schema
from apps.relations import selectors, services
from apps.relations.api.serializers import BlackOutput, FriendOutput, FriendRequestOutput, friends_render
from apps.relations.models import HandleResult

USER_PATH = OpenApiParameter(
    "user_id", str, OpenApiParameter.PATH, description="the other user's user_id",
    examples=[OpenApiExample("user", value="bob")],
)


class FriendHandleInput(serializers.Serializer):
    handle_msg = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


def _handle_request(request: Request, request_id: int, handle: Any) -> Response:
    """Accept or refuse (``handle`` is the service) a request made to the caller; render it."""
    data = FriendHandleInput(data=request.data)
    data.is_valid(raise_exception=True)
    handle(request_id=request_id, by=request_user(request), **data.validated_data)
    req = selectors.friend_requests_received(user_id=request_user(request).user_id).get(pk=request_id)
    return Response(FriendRequestOutput(req).data)


# ------------------------------------------------------------ requests
class FriendRequestsApi(APIView):
    class Input(serializers.Serializer):
        to_user_id = UserIdField()
        message = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
        ex = ExField(required=False)

    class ListInput(serializers.Serializer):
        direction = serializers.ChoiceField(
            choices=["received", "sent"], required=False, default="received",
            help_text="received: requests to me; sent: requests I made",
        )
        handle_result = serializers.ChoiceField(
            choices=HandleResult.values, required=False, allow_null=True, default=None,
            help_text="0 pending, 1 accepted, -1 refused; omit for all",
        )

    @extend_schema(
        tags=["friends"],
        summary="Send a friend request",
        description=(
            "Asks `to_user_id` to be friends; they get a 1203 notification. Asking again reopens a refused "
            "request. Fails with 1301 for yourself, 1302 when they blocked you, 1304 when already friends."
        ),
        request=Input,
        responses={
            201: FriendRequestOutput,
            **error_responses(Code.USER_NOT_FOUND, Code.CANNOT_ADD_SELF, Code.BLOCKED_BY_PEER, Code.ALREADY_FRIENDS,
                              Code.DUPLICATE, *AUTH),
        },
        examples=[OpenApiExample("request", value={"to_user_id": "bob", "message": "hi, it's Alice"}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        req = services.friend_request_send(from_user=request_user(request), **data.validated_data)
        req = selectors.friend_requests_sent(user_id=request_user(request).user_id).get(pk=req.pk)
        return Response(FriendRequestOutput(req).data, status=201)

    @extend_schema(
        tags=["friends"],
        summary="List my friend requests (received or sent) with their status",
        parameters=[ListInput, *PAGE_PARAMS],
        responses={200: paged("FriendRequestList", FriendRequestOutput(many=True)), **error_responses(*AUTH)},
    )
    def get(self, request: Request) -> Response:
        params = self.ListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        fn = (
            selectors.friend_requests_sent
            if params.validated_data["direction"] == "sent"
            else selectors.friend_requests_received
        )
        qs = fn(user_id=request_user(request).user_id, handle_result=params.validated_data["handle_result"])
        return paginate(self, request, qs, FriendRequestOutput)


class FriendRequestAcceptApi(APIView):
    @extend_schema(
        tags=["friends"],
        summary="Accept a friend request made to me",
        description=(
            "Both users become friends (a pending request the other way is accepted too); the requester gets a "
            "1201 notification. A request already handled fails with 1305."
        ),
        request=FriendHandleInput,
        responses={200: FriendRequestOutput,
                   **error_responses(Code.NOT_FOUND, Code.FRIEND_REQUEST_HANDLED, *AUTH)},
        examples=[OpenApiExample("request", value={"handle_msg": "welcome"}, request_only=True)],
    )
    def post(self, request: Request, request_id: int) -> Response:
        return _handle_request(request, request_id, services.friend_request_accept)


class FriendRequestRefuseApi(APIView):
    @extend_schema(
        tags=["friends"],
        summary="Refuse a friend request made to me",
        description="The requester gets a 1202 notification. A request already handled fails with 1305.",
        request=FriendHandleInput,
        responses={200: FriendRequestOutput,
                   **error_responses(Code.NOT_FOUND, Code.FRIEND_REQUEST_HANDLED, *AUTH)},
    )
    def post(self, request: Request, request_id: int) -> Response:
        return _handle_request(request, request_id, services.friend_request_refuse)


# ------------------------------------------------------------ friends
class FriendsApi(APIView):
    class ListInput(serializers.Serializer):
        keyword = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                        help_text="matches nickname, remark or user_id")
        pinned = serializers.BooleanField(required=False, allow_null=True, default=None)
        since_version = since_field()

    def cache_prefetch(self, user_id: str) -> list[str]:
        """The list's version, read with the token (:func:`apps.common.listsync.prefetch`)."""
        return listsync.prefetch(versionlog.FRIENDS, user_id)

    @extend_schema(
        tags=["friends"],
        summary="My friend list (paged; pinned first), or the changes since a version",
        description=(
            "The paged answer carries the list's `version` and an `ETag` (a repeat read is served from the "
            "cache; `If-None-Match` with the ETag answers 304). With `since_version` the answer is an "
            "incremental sync (docs/protocol.md, incremental sync); `deleted` holds friend user ids."
        ),
        parameters=[ListInput, *PAGE_PARAMS],
        responses={200: sync_schema("FriendList", FriendOutput), 304: None, **error_responses(*AUTH)},
    )
    def get(self, request: Request) -> HttpResponse:
        params = self.ListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        owner_id = request_user(request).user_id
        since = params.validated_data.pop("since_version", None)
        if since is not None:
            def items(ids: list[str] | None) -> list[dict[str, Any]]:
                return friends_render(selectors.friend_rows_of(owner_id=owner_id, friend_ids=ids))

            return sync_answer(request, kind=versionlog.FRIENDS, owner=owner_id, since=since, render=items,
                               item_id=lambda item: item["friend_user_id"])
        args = {"owner_id": owner_id, **params.validated_data}

        def page() -> dict[str, Any]:
            rows = selectors.friend_list_rows(**args)
            return paginate_rows(self, request, rows, friends_render, rows.count).data

        return cached_page(request, kind=versionlog.FRIENDS, owner=owner_id, render=page)


class FriendDetailApi(APIView):
    class Input(serializers.Serializer):
        remark = serializers.CharField(max_length=64, required=False, allow_blank=True)
        is_pinned = serializers.BooleanField(required=False)
        ex = ExField(required=False)

    @extend_schema(
        tags=["friends"], summary="One friend of mine", parameters=[USER_PATH],
        responses={200: FriendOutput, **error_responses(Code.NOT_FRIENDS, *AUTH)},
    )
    def get(self, request: Request, user_id: str) -> Response:
        row = selectors.friend_get(owner_id=request_user(request).user_id, friend_id=user_id)
        if row is None:
            raise DomainError(Code.NOT_FRIENDS, f"{user_id} is not in your friend list")
        return Response(FriendOutput(row).data)

    @extend_schema(
        tags=["friends"], summary="Set a friend's remark, pin or ex", parameters=[USER_PATH], request=Input,
        description="My devices get a 1206 (remark only) or 1210 notification.",
        responses={200: FriendOutput, **error_responses(Code.NOT_FRIENDS, *AUTH)},
        examples=[OpenApiExample("request", value={"remark": "Bobby", "is_pinned": True}, request_only=True)],
    )
    def patch(self, request: Request, user_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.friend_update(owner=request_user(request), friend_id=user_id, data=data.validated_data)
        return Response(FriendOutput(row).data)

    @extend_schema(
        tags=["friends"], summary="Delete a friend", parameters=[USER_PATH], request=None,
        description="Removes the user from my list only (they keep me in theirs); they get a 1205 notification.",
        responses={200: OkSerializer, **error_responses(Code.NOT_FRIENDS, *AUTH)},
    )
    def delete(self, request: Request, user_id: str) -> Response:
        services.friend_delete(owner=request_user(request), friend_id=user_id)
        return ok()


class FriendStatusApi(APIView):
    @extend_schema(
        tags=["friends"], summary="Is this user my friend?", parameters=[USER_PATH],
        responses={
            200: inline_serializer(
                "FriendStatus",
                {
                    "user_id": serializers.CharField(),
                    "is_friend": serializers.BooleanField(help_text="each has the other in their list"),
                    "in_my_list": serializers.BooleanField(),
                    "in_their_list": serializers.BooleanField(),
                    "blocked_by_me": serializers.BooleanField(),
                },
            ),
            **error_responses(*AUTH),
        },
    )
    def get(self, request: Request, user_id: str) -> Response:
        me = request_user(request).user_id
        mine = selectors.are_friends(user_id=me, friend_id=user_id)
        theirs = selectors.are_friends(user_id=user_id, friend_id=me)
        return Response(
            {
                "user_id": user_id,
                "is_friend": mine and theirs,
                "in_my_list": mine,
                "in_their_list": theirs,
                "blocked_by_me": selectors.is_blocked(owner_id=me, target_id=user_id),
            }
        )


class FriendImportApi(APIView):
    permission_classes = [IsAppAdmin]

    class Input(serializers.Serializer):
        owner_user_id = UserIdField()
        friend_user_ids = serializers.ListField(child=UserIdField(), allow_empty=False, max_length=1000)

    @extend_schema(
        tags=["friends"],
        summary="Import friendships without approval (admin)",
        description="Makes `owner_user_id` and each of `friend_user_ids` friends both ways; recorded in the audit log.",
        request=Input,
        responses={
            200: inline_serializer("FriendImported", {"added": serializers.ListField(child=serializers.CharField())}),
            **error_responses(Code.NO_PERMISSION, Code.USER_NOT_FOUND, Code.CANNOT_ADD_SELF, *AUTH),
        },
        examples=[
            OpenApiExample("request", value={"owner_user_id": "alice", "friend_user_ids": ["bob", "carol"]},
                           request_only=True)
        ],
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        added = services.friends_import(
            owner_id=data.validated_data["owner_user_id"], friend_ids=data.validated_data["friend_user_ids"],
            actor=request_user(request), ip=client_ip(request),
        )
        return Response({"added": added})


# ------------------------------------------------------------ blacklist
class BlacklistApi(APIView):
    class Input(serializers.Serializer):
        user_id = UserIdField()

    @extend_schema(
        tags=["blacklist"],
        summary="Block a user",
        description=(
            "Their 1:1 messages to me fail with 1302 and so do their friend requests. "
            "My devices get a 1207 notification; the blocked user is not told."
        ),
        request=Input,
        responses={201: BlackOutput,
                   **error_responses(Code.USER_NOT_FOUND, Code.CANNOT_ADD_SELF, Code.DUPLICATE, *AUTH)},
        examples=[OpenApiExample("request", value={"user_id": "mallory"}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.black_add(owner=request_user(request), user_id=data.validated_data["user_id"])
        return Response(BlackOutput(row).data, status=201)

    @extend_schema(
        tags=["blacklist"], summary="My blacklist (paged)", parameters=PAGE_PARAMS,
        responses={200: paged("BlackList", BlackOutput(many=True)), **error_responses(*AUTH)},
    )
    def get(self, request: Request) -> Response:
        return paginate(self, request, selectors.blacklist(owner_id=request_user(request).user_id), BlackOutput)


class BlacklistDetailApi(APIView):
    @extend_schema(
        tags=["blacklist"], summary="Unblock a user", parameters=[USER_PATH], request=None,
        description="My devices get a 1208 notification.",
        responses={200: OkSerializer, **error_responses(Code.NOT_FOUND, *AUTH)},
    )
    def delete(self, request: Request, user_id: str) -> Response:
        services.black_remove(owner=request_user(request), user_id=user_id)
        return ok()
