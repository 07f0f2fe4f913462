"""Signed, expiring, revocable tokens.

A token string is ``django.core.signing`` of ``{"u": user_id, "p": platform_id,
"j": jti, "e": expiry}``. The signature proves who issued it; the ``Token`` row
(cached, Redis in production) says whether it is still valid, so force-logout,
bans and the multi-login policy revoke it at once. The same
:func:`token_validate` serves the REST authentication class and the websocket.

On the hot path a token costs one cache read: the decoded claims of a token string are kept
in-process (:func:`_claims_of`, an LRU; the expiry is checked on every use), and
:func:`token_holder` reads the token's status and its user's cached row
(:mod:`apps.accounts.usercache`) in one ``get_many``, going to the database only on a miss.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.cache import cache

from apps.accounts.constants import TokenStatus
from apps.accounts.models import Token, User
from apps.accounts.usercache import USER_CACHE_SECONDS, user_from_row, user_key, user_load, user_row
from apps.common.errors import Code, DomainError

SALT = "imserver.token.v1"
_CACHE_PREFIX = "tok:"
_UNKNOWN = -1


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    platform_id: int
    jti: str
    expires_at: int  # unix seconds


def token_encode(claims: TokenClaims) -> str:
    payload = {"u": claims.user_id, "p": claims.platform_id, "j": claims.jti, "e": claims.expires_at}
    return signing.dumps(payload, salt=SALT, compress=False)


def token_decode(token: str) -> TokenClaims:
    """Check signature and expiry only (no revocation status)."""
    if not token or not isinstance(token, str) or len(token) > 1024:
        raise DomainError(Code.TOKEN_INVALID, "token is missing or malformed")
    claims = _claims_of(token)
    if claims.expires_at <= time.time():
        raise DomainError(Code.TOKEN_EXPIRED, "token expired; ask the app backend for a new one")
    return claims


@functools.lru_cache(maxsize=4096)
def _claims_of(token: str) -> TokenClaims:
    """The signed claims of a token string, remembered per process (a refused string raises, and
    is not remembered); expiry is the caller's check, on every use."""
    try:
        payload = signing.loads(token, salt=SALT)
        claims = TokenClaims(
            user_id=str(payload["u"]),
            platform_id=int(payload["p"]),
            jti=str(payload["j"]),
            expires_at=int(payload["e"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise DomainError(Code.TOKEN_INVALID, "token is malformed or its signature is wrong") from exc
    return claims


def _cache_key(jti: str) -> str:
    return f"{_CACHE_PREFIX}{jti}"


def token_status_cache_set(jti: str, status: int, expires_at: float) -> None:
    ttl = max(1, int(expires_at - time.time()))
    cache.set(_cache_key(jti), status, timeout=ttl)


def token_status_cache_set_many(jtis: list[str], status: int, ttl: int = 24 * 3600) -> None:
    if jtis:
        cache.set_many({_cache_key(j): status for j in jtis}, timeout=ttl)


def _token_status(claims: TokenClaims) -> int:
    status = cache.get(_cache_key(claims.jti))
    if status is not None:
        return int(status)
    row = Token.objects.filter(jti=claims.jti).values_list("status", flat=True).first()
    status = _UNKNOWN if row is None else int(row)
    if status != _UNKNOWN:
        token_status_cache_set(claims.jti, status, claims.expires_at)
    return status


def token_validate(token: str) -> TokenClaims:
    """Decode and check revocation; raises DomainError 1501/1502/1506/1507."""
    return token_check(token_decode(token))


def token_holder_check(
    claims: TokenClaims, *, user_exists: bool, user_banned: bool, status: int | None = None,
) -> TokenClaims:
    """The one rule every transport (REST, websocket) applies to a decoded token and its user:
    a user that no longer exists is 1507, a banned user is 1103 (whatever became of the token:
    a ban also kicks it), then the token's own status (1506 kicked, 1507 unknown). ``status`` is
    the token's cached status when the caller read it already (None: look it up)."""
    if not user_exists:
        raise DomainError(Code.TOKEN_UNKNOWN, "the token's user no longer exists")
    if user_banned:
        raise DomainError(Code.USER_BANNED, "the user is banned")
    return token_check(claims, status=status)


def token_holder(claims: TokenClaims, *, also: Sequence[str] = (), found: dict[str, Any] | None = None) -> User:
    """The user of decoded claims, by :func:`token_holder_check`: the token's status and the
    user's cached row in one cache read; the database only for what the cache lacks.

    ``also``: more cache keys the caller will need (a list's version), read in the same
    ``get_many``; their hits go into ``found``."""
    status_key, row_key = _cache_key(claims.jti), user_key(claims.user_id)
    hits = cache.get_many([status_key, row_key, *also])
    if found is not None:
        found.update((k, hits[k]) for k in also if k in hits)
    row = hits.get(row_key)
    user: User | None
    if row is not None:
        user = user_from_row(row)
    else:
        user = user_load(claims.user_id)
        if user is not None:
            cache.set(row_key, user_row(user), USER_CACHE_SECONDS)
    status = hits.get(status_key)
    token_holder_check(
        claims, user_exists=user is not None, user_banned=user is not None and user.is_banned,
        status=None if status is None else int(status),
    )
    assert user is not None  # noqa: S101 - token_holder_check refused a missing user
    return user


def kick_code(reason: str) -> Code:
    """The code a live connection is told when its token is kicked: a ban says 1103, like
    every later request of the banned user; a logout or a newer login says 1506."""
    return Code.USER_BANNED if reason == "ban" else Code.TOKEN_KICKED


def token_check(claims: TokenClaims, *, status: int | None = None) -> TokenClaims:
    """Check the revocation status of already decoded claims (1506/1507); ``status`` when the
    caller read the cached status already (None: read it, from the database on a miss)."""
    if status is None:
        status = _token_status(claims)
    if status == _UNKNOWN:
        raise DomainError(Code.TOKEN_UNKNOWN, "token is not known to this server")
    if status == TokenStatus.KICKED:
        raise DomainError(Code.TOKEN_KICKED, "token was revoked (logged out or kicked by a newer login)")
    return claims
