"""DRF glue shared by every app: error rendering, pagination, small helpers."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from apps.common.errors import Code, DomainError, default_message, http_status

log = logging.getLogger(__name__)

# the errors any authenticated endpoint can answer (for its OpenAPI error responses)
TOKEN_ERRORS = (Code.TOKEN_EXPIRED, Code.TOKEN_INVALID, Code.TOKEN_KICKED, Code.TOKEN_UNKNOWN)
AUTH_ERRORS = (Code.NOT_AUTHENTICATED, *TOKEN_ERRORS)


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        out: list[str] = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix
            out.extend(_flatten(value, name))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                out.extend(_flatten(value, f"{prefix}[{index}]"))
            else:
                out.extend(_flatten(value, prefix))
        return out
    text = str(detail)
    return [f"{prefix}: {text}" if prefix else text]


def _body(code: Code, msg: str, **extra: Any) -> dict[str, Any]:
    return {"code": int(code), "msg": msg, **extra}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every error as ``{"code", "msg"}`` with the matching HTTP status."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        set_rollback()
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(_body(Code.BODY_TOO_LARGE, f"the request body is limited to {limit} bytes"), status=413)
    if isinstance(exc, SuspiciousOperation):  # too many query-string/form fields or files, a bad multipart
        set_rollback()
        return Response(_body(Code.BAD_ARGS, str(exc) or "bad request"), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        if isinstance(exc, exceptions.ValidationError):
            code, msg = Code.BAD_ARGS, "; ".join(_flatten(exc.detail)) or "bad arguments"
        elif isinstance(exc, exceptions.ParseError):
            code, msg = Code.BAD_ARGS, f"malformed request body: {exc.detail}"
        elif isinstance(exc, exceptions.UnsupportedMediaType | exceptions.MethodNotAllowed | exceptions.NotAcceptable):
            code, msg = Code.BAD_ARGS, str(exc.detail)
        elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            code, msg = Code.NOT_AUTHENTICATED, str(exc.detail)
        elif isinstance(exc, exceptions.PermissionDenied):
            code, msg = Code.NO_PERMISSION, str(exc.detail)
        elif isinstance(exc, exceptions.NotFound):
            code, msg = Code.NOT_FOUND, str(exc.detail)
        elif isinstance(exc, exceptions.Throttled):
            code, msg = Code.RATE_LIMITED, str(exc.detail)
        else:
            code, msg = Code.INTERNAL, str(exc.detail)
        return Response(_body(code, msg), status=exc.status_code, headers=headers)
    log.exception("unhandled error in %s", context.get("view"))
    set_rollback()
    return Response(_body(Code.INTERNAL, "internal error"), status=500)


class OffsetPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


PAGE_PARAMS = [OpenApiParameter("limit", int, required=False), OpenApiParameter("offset", int, required=False)]


def paginate(view: APIView, request: Request, qs: Any, output: Any) -> Response:
    """One offset page of ``qs`` rendered with the ``output`` serializer class."""
    paginator = OffsetPagination()
    page: list[Any] | None = paginator.paginate_queryset(qs, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)


def paginate_rows(
    view: APIView, request: Request, qs: Any, render: Callable[[list[Any]], list[Any]], count: Callable[[], int],
) -> Response:
    """:func:`paginate` for a queryset of plain rows: the same ``count``, ``next``, ``previous`` and
    ``results`` (the page's rows through ``render``); the page is read first, so ``count()`` (a COUNT
    query) only runs when the page does not tell the total (a full page, or an empty one past 0)."""
    paginator = OffsetPagination()
    paginator.request = request
    limit = paginator.limit = paginator.get_limit(request) or 0  # OffsetPagination has a default limit
    offset = paginator.offset = paginator.get_offset(request)
    rows = list(qs[offset : offset + limit])
    if (rows and len(rows) < limit) or (not rows and not offset):
        paginator.count = offset + len(rows)
    else:
        paginator.count = count()
    return paginator.get_paginated_response(render(rows))


def paged(name: str, item: serializers.Serializer) -> serializers.Serializer:
    """OpenAPI shape of an offset-paginated list."""
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True, required=False),
            "previous": serializers.URLField(allow_null=True, required=False),
            "results": item,
        },
    )


def split_ids(raw: str, *, most: int, what: str = "ids") -> list[str]:
    """A comma-separated id list from a query string: trimmed, blanks and repeats dropped, capped."""
    ids = list(dict.fromkeys(i for i in (x.strip() for x in raw.split(",")) if i))
    if len(ids) > most:
        raise DomainError(Code.BAD_ARGS, f"{what}: at most {most} ids")
    return ids


class ErrorSerializer(serializers.Serializer):
    code = serializers.IntegerField(help_text="error code, see docs/protocol.md")
    msg = serializers.CharField()


def error_responses(*codes: Code) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for a view's error codes, grouped by HTTP status."""
    by_status: dict[int, list[Code]] = {}
    for code in (Code.BAD_ARGS, *codes):
        by_status.setdefault(http_status(code), []).append(code)
    out: dict[int, OpenApiResponse] = {}
    for status, group in by_status.items():
        out[status] = OpenApiResponse(
            response=ErrorSerializer,
            description=", ".join(f"{int(c)} {default_message(c)}" for c in group),
            examples=[
                OpenApiExample(f"{int(c)}", value={"code": int(c), "msg": default_message(c)}, response_only=True)
                for c in group
            ],
        )
    return out


OkSerializer = inline_serializer("Ok", {"code": serializers.IntegerField(default=0), "msg": serializers.CharField()})


def ok() -> Response:
    return Response({"code": 0, "msg": ""})


def client_ip(request: Any) -> str | None:
    """The client's address: the peer's, or behind our proxy (``IM_BEHIND_TLS_PROXY``) the
    address it appended to ``X-Forwarded-For`` (the last entry; earlier ones are the client's word)."""
    meta = getattr(request, "META", {})
    address = meta.get("REMOTE_ADDR") or ""
    if settings.IM_BEHIND_TLS_PROXY and meta.get("HTTP_X_FORWARDED_FOR"):
        address = meta["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # not an address (a test client, a broken proxy): the audit row keeps none
        return None
