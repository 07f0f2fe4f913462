"""Thin REST views: parse, call a service or selector, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.accounts import presence, selectors, services
from apps.accounts.api.serializers import (
    PlatformIdField,
    TokenOutput,
    UserFullOutput,
    UserIdField,
    UserProfileInput,
    UserPublicOutput,
    user_full_render,
)
from apps.accounts.authentication import request_user
from apps.accounts.permissions import IsAppAdmin
from apps.common.api import TOKEN_ERRORS, OkSerializer, client_ip, error_responses, ok, paginate, split_ids
from apps.common.errors import Code, DomainError


def _token_body(issued: services.IssuedToken) -> dict[str, object]:
    return {
        "token": issued.token,
        "expires_in": issued.expires_in,
        "user_id": issued.user_id,
        "platform_id": issued.platform_id,
    }


class AdminTokenApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    class Input(serializers.Serializer):
        secret = serializers.CharField(max_length=256)
        user_id = UserIdField()

    @extend_schema(
        tags=["auth"],
        summary="Get an admin token with the app secret",
        request=Input,
        responses={200: TokenOutput, **error_responses(Code.NO_PERMISSION, Code.RATE_LIMITED)},
        auth=[],
        examples=[OpenApiExample("request", value={"secret": "change-me", "user_id": "imAdmin"}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.admin_token_issue(ip=client_ip(request), **data.validated_data)
        return Response(_token_body(issued))


class UserTokenApi(APIView):
    permission_classes = [IsAppAdmin]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    class Input(serializers.Serializer):
        user_id = UserIdField()
        platform_id = PlatformIdField()

    @extend_schema(
        tags=["auth"],
        summary="Issue a token for a user on a platform (admin)",
        description="Applies the multi-login policy: by default an older token of the same platform is kicked.",
        request=Input,
        responses={200: TokenOutput, **error_responses(Code.NO_PERMISSION, Code.USER_NOT_FOUND, Code.USER_BANNED, *TOKEN_ERRORS)},
        examples=[OpenApiExample("request", value={"user_id": "alice", "platform_id": 5}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_get(user_id=data.validated_data["user_id"])
        issued = services.token_issue(
            user=user, platform_id=data.validated_data["platform_id"], actor=request_user(request), ip=client_ip(request)
        )
        return Response(_token_body(issued))


class ForceLogoutApi(APIView):
    permission_classes = [IsAppAdmin]

    class Input(serializers.Serializer):
        user_id = UserIdField()
        platform_id = PlatformIdField(required=False, allow_null=True, help_text="omit to log out every platform")

    @extend_schema(
        tags=["auth"],
        summary="Force a user offline (admin)",
        description="Revokes the user's tokens on the platform (or all) and closes their live connections.",
        request=Input,
        responses={200: OkSerializer, **error_responses(Code.NO_PERMISSION, Code.USER_NOT_FOUND, *TOKEN_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_force_logout(
            user_id=data.validated_data["user_id"],
            platform_id=data.validated_data.get("platform_id"),
            actor=request_user(request),
            ip=client_ip(request),
        )
        return ok()


class UserRegisterItem(UserProfileInput):
    user_id = UserIdField()
    app_manager_level = serializers.IntegerField(min_value=0, max_value=100, required=False)


class UsersApi(APIView):
    """``POST`` registers (admin); ``GET`` looks up by ids, or searches (admin)."""

    class RegisterInput(serializers.Serializer):
        users = UserRegisterItem(many=True, allow_empty=False, max_length=1000)  # type: ignore[call-arg]  # many=True makes a ListSerializer, which takes max_length

    class ListInput(serializers.Serializer):
        ids = serializers.CharField(required=False, help_text="comma-separated user ids (at most 1000)")
        keyword = serializers.CharField(required=False, max_length=64)
        banned = serializers.BooleanField(required=False, allow_null=True, default=None)

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsAppAdmin()]
        return [IsAuthenticated()]

    @extend_schema(
        tags=["users"],
        summary="Register users (admin)",
        request=RegisterInput,
        responses={
            201: inline_serializer("UsersRegistered", {"users": UserFullOutput(many=True)}),
            **error_responses(Code.NO_PERMISSION, Code.ALREADY_REGISTERED, *TOKEN_ERRORS),
        },
        examples=[
            OpenApiExample(
                "request",
                value={"users": [{"user_id": "alice", "nickname": "Alice", "face_url": "", "ex": {}}]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = self.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        users = services.users_register(users=data.validated_data["users"], actor=request_user(request), ip=client_ip(request))
        return Response({"users": UserFullOutput(users, many=True).data}, status=201)

    @extend_schema(
        tags=["users"],
        summary="Get users by id, or search users (admin)",
        description=(
            "With `ids`, any user gets the public profiles of those users (unknown ids are left out). "
            "Without `ids`, an admin searches all users by `keyword` (id or nickname), paged."
        ),
        parameters=[
            ListInput,
            OpenApiParameter("limit", int, required=False),
            OpenApiParameter("offset", int, required=False),
        ],
        responses={
            200: inline_serializer(
                "UserList",
                {
                    "count": serializers.IntegerField(required=False),
                    "results": UserPublicOutput(many=True),
                },
            ),
            **error_responses(Code.NO_PERMISSION, *TOKEN_ERRORS),
        },
    )
    def get(self, request: Request) -> Response:
        params = self.ListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        ids_raw = params.validated_data.get("ids")
        if ids_raw is not None:
            users = selectors.users_by_ids(user_ids=split_ids(ids_raw, most=1000))
            return Response({"count": len(users), "results": UserPublicOutput(users, many=True).data})
        if not request_user(request).is_app_admin:
            raise DomainError(Code.NO_PERMISSION, "searching all users needs an admin token; pass ids=… instead")
        qs = selectors.users_search(
            keyword=params.validated_data.get("keyword", ""), banned=params.validated_data.get("banned")
        )
        return paginate(self, request, qs, UserFullOutput)


class UserMeApi(APIView):
    @extend_schema(tags=["users"], summary="My profile", responses={200: UserFullOutput, **error_responses(*TOKEN_ERRORS)})
    def get(self, request: Request) -> Response:
        return Response(user_full_render(request_user(request)))

    @extend_schema(
        tags=["users"],
        summary="Update my profile",
        request=UserProfileInput,
        responses={200: UserFullOutput, **error_responses(*TOKEN_ERRORS)},
    )
    def patch(self, request: Request) -> Response:
        data = UserProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request_user(request), data=data.validated_data, actor=request_user(request))
        return Response(user_full_render(user))


class UserStatusApi(APIView):
    class Params(serializers.Serializer):
        ids = serializers.CharField(help_text="comma-separated user ids (at most 500)")

    class Output(serializers.Serializer):
        user_id = serializers.CharField()
        online = serializers.BooleanField()
        platform_ids = serializers.ListField(child=serializers.IntegerField(), help_text="platforms online now")

    @extend_schema(
        tags=["users"],
        summary="Online status of users, across all server nodes",
        parameters=[Params],
        responses={
            200: inline_serializer("UserStatusList", {"results": Output(many=True)}),
            **error_responses(*TOKEN_ERRORS),
        },
    )
    def get(self, request: Request) -> Response:
        params = self.Params(data=request.query_params)
        params.is_valid(raise_exception=True)
        ids = split_ids(params.validated_data["ids"], most=500)
        if not ids:
            raise DomainError(Code.BAD_ARGS, "ids: between 1 and 500 user ids")
        status = presence.presence_online_map(user_ids=ids)
        return Response(
            {"results": [{"user_id": uid, "online": bool(p), "platform_ids": p} for uid, p in status.items()]}
        )


class UserDetailApi(APIView):
    permission_classes = [IsAppAdmin]

    class Input(UserProfileInput):
        app_manager_level = serializers.IntegerField(min_value=0, max_value=100, required=False)

    @extend_schema(
        tags=["users"], summary="Get any user (admin)",
        responses={200: UserFullOutput, **error_responses(Code.NO_PERMISSION, Code.USER_NOT_FOUND, *TOKEN_ERRORS)},
    )
    def get(self, request: Request, user_id: str) -> Response:
        return Response(UserFullOutput(services.user_get(user_id=user_id)).data)

    @extend_schema(
        tags=["users"], summary="Update any user (admin)", request=Input,
        responses={200: UserFullOutput, **error_responses(Code.NO_PERMISSION, Code.USER_NOT_FOUND, *TOKEN_ERRORS)},
    )
    def patch(self, request: Request, user_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(
            user=services.user_get(user_id=user_id), data=data.validated_data, actor=request_user(request), ip=client_ip(request)
        )
        return Response(UserFullOutput(user).data)


class UserBanApi(APIView):
    permission_classes = [IsAppAdmin]

    class Input(serializers.Serializer):
        reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    @extend_schema(
        tags=["users"], summary="Ban a user (admin): kicks every session, refuses new tokens", request=Input,
        responses={200: UserFullOutput, **error_responses(Code.NO_PERMISSION, Code.USER_NOT_FOUND, *TOKEN_ERRORS)},
    )
    def post(self, request: Request, user_id: str) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_ban(
            user=services.user_get(user_id=user_id), actor=request_user(request),
            reason=data.validated_data["reason"], ip=client_ip(request),
        )
        return Response(UserFullOutput(user).data)

    @extend_schema(
        tags=["users"], summary="Unban a user (admin)", request=None,
        responses={200: UserFullOutput, **error_responses(Code.NO_PERMISSION, Code.USER_NOT_FOUND, *TOKEN_ERRORS)},
    )
    def delete(self, request: Request, user_id: str) -> Response:
        user = services.user_unban(user=services.user_get(user_id=user_id), actor=request_user(request), ip=client_ip(request))
        return Response(UserFullOutput(user).data)


