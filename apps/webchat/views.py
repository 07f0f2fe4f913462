"""Thin views: the chat page, and the debug-only demo sign-in."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.accounts.api.serializers import UserIdField
from apps.common.api import error_responses
from apps.common.errors import Code, DomainError
from apps.webchat import services


def _files_origin() -> str:
    """The origin of the file URLs put into messages when ``IM_FILES_URL_BASE`` is absolute, else ""."""
    parts = urlsplit(settings.IM_FILES_URL_BASE)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in {"http", "https"} and parts.netloc else ""


def _csp(request: HttpRequest) -> str:
    host = request.get_host()
    ws = f"{'wss' if request.is_secure() else 'ws'}://{host}"
    files = _files_origin()
    files = f" {files}" if files else ""
    # everything comes from this server (and its file URL base, when that is set): pictures in
    # messages from elsewhere are shown as links, never loaded
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"connect-src 'self' {ws}{files}; img-src 'self' data: blob:{files}; media-src 'self' blob:{files}; "
        "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def chat_page(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "chat/index.html",
        {"demo": settings.DEBUG, "files_origin": _files_origin(), "file_link_ttl": settings.IM_FILE_URL_TTL_SECONDS},
    )
    response["Content-Security-Policy"] = _csp(request)
    response["Referrer-Policy"] = "no-referrer"  # the token may sit in the URL fragment; keep it home
    response["Cache-Control"] = "no-store"
    return response


class DemoSignInApi(APIView):
    """Debug only: make a user if needed and issue a Web token. 404 when ``DEBUG`` is off."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    class Input(serializers.Serializer):
        user_id = UserIdField()
        nickname = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    @extend_schema(
        tags=["chat"],
        summary="Demo sign-in for the chat page (DEBUG only)",
        description=(
            "Only while the server runs with `DEBUG=1` (the embedded quick start): registers the user "
            "if it is new and issues a Web (5) token. With `DEBUG` off it answers 404. "
            "In production the app backend issues tokens with `POST /api/v1/auth/user-token`."
        ),
        request=Input,
        responses={
            200: inline_serializer(
                "DemoToken",
                {"token": serializers.CharField(), "expires_in": serializers.IntegerField(),
                 "user_id": serializers.CharField(), "platform_id": serializers.IntegerField()},
            ),
            **error_responses(Code.NOT_FOUND, Code.NO_PERMISSION, Code.USER_BANNED, Code.RATE_LIMITED),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        if not settings.DEBUG:
            raise DomainError(Code.NOT_FOUND, "demo sign-in exists only with DEBUG on; ask the app backend for a token")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.demo_sign_in(**data.validated_data)
        return Response(
            {"token": issued.token, "expires_in": issued.expires_in, "user_id": issued.user_id,
             "platform_id": issued.platform_id}
        )
