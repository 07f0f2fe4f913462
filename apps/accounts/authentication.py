"""DRF authentication by ``Authorization: Bearer <token>``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from apps.accounts.models import User
from apps.accounts.tokens import TokenClaims, token_decode, token_holder
from apps.common.errors import Code, DomainError


def request_user(request: HttpRequest | Request) -> User:
    """The authenticated user of a request past its permission check (views, admin actions)."""
    user = request.user
    if not isinstance(user, User):  # unreachable behind IsAuthenticated / the admin login
        raise PermissionDenied
    return user


def request_claims(request: Request) -> TokenClaims | None:
    """The claims of the request's bearer token (None for other authentication)."""
    return request.auth if isinstance(request.auth, TokenClaims) else None


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, TokenClaims] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise DomainError(Code.TOKEN_INVALID, "Authorization header must be 'Bearer <token>'")
        claims = token_decode(parts[1].decode("latin-1"))
        # a view may name cache keys it will read (its list's version): they come in the same read
        view = (request.parser_context or {}).get("view")
        prefetch = getattr(view, "cache_prefetch", None)
        if prefetch is None:
            return token_holder(claims), claims
        found: dict[str, Any] = {}
        user = token_holder(claims, also=prefetch(claims.user_id), found=found)
        request._request.cache_prefetched = found  # type: ignore[attr-defined]  # read by apps.common.listsync
        return user, claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="imserver"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
