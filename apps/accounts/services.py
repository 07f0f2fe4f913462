"""Writes for users and tokens. One transaction each; audit rows written here."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.accounts.constants import PLATFORM_CLASS, PLATFORM_IDS, LoginPolicy, Platform, TokenStatus
from apps.accounts.models import Token, User
from apps.accounts.signals import user_profile_changed
from apps.accounts.tokens import TokenClaims, token_encode, token_status_cache_set, token_status_cache_set_many
from apps.accounts.usercache import user_cache_invalidate
from apps.audit.services import audit_record, audit_record_many
from apps.common.errors import Code, DomainError
from apps.common.push import send_to_users
from apps.common.sideeffects import on_commit
from apps.integrations.webhooks import emit_on_commit

KICK_EVENT = "session.kick"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    user_id: str
    platform_id: int


def _actor(user: User | None) -> str | None:
    return user.user_id if user is not None else None


def _check_platform(platform_id: int) -> None:
    if platform_id not in PLATFORM_IDS:
        raise DomainError(Code.BAD_ARGS, f"platform_id must be one of {sorted(PLATFORM_IDS)}")


# ------------------------------------------------------------------ kick helpers
def _kick_on_commit(user_id: str, kicked: list[tuple[str, int]], reason: str) -> None:
    """After commit: mark kicked tokens in the cache and tell live connections."""
    if not kicked:
        return
    # revoke in the cache now (fail safe) and again after commit (beats a racing re-cache)
    token_status_cache_set_many([jti for jti, _ in kicked], TokenStatus.KICKED)

    def run() -> None:
        token_status_cache_set_many([jti for jti, _ in kicked], TokenStatus.KICKED)
        send_to_users(
            [user_id],
            {"type": KICK_EVENT, "jtis": [jti for jti, _ in kicked], "reason": reason},
        )

    on_commit(run)


def _conflicting(policy: int, platform_id: int, live: list[Token]) -> list[Token]:
    """Tokens that a new login on ``platform_id`` kicks under ``policy``."""
    if platform_id == Platform.ADMIN or policy == LoginPolicy.KEEP_MANY:
        same = [t for t in live if t.platform_id == platform_id]
        keep = settings.IM_MULTI_LOGIN_MAX_PER_PLATFORM - 1
        return sorted(same, key=lambda t: t.created_at)[: max(0, len(same) - keep)]
    if policy == LoginPolicy.ONE_PER_CLASS:
        cls = PLATFORM_CLASS[platform_id]
        return [t for t in live if PLATFORM_CLASS.get(t.platform_id) == cls]
    if policy == LoginPolicy.PC_AND_ONE_OTHER:
        if PLATFORM_CLASS[platform_id] == "pc":
            return []
        return [t for t in live if PLATFORM_CLASS.get(t.platform_id) != "pc" and t.platform_id != Platform.ADMIN]
    # ONE_PER_PLATFORM and anything unknown: the safe default
    return [t for t in live if t.platform_id == platform_id]


# ------------------------------------------------------------------------ tokens
@transaction.atomic
def token_issue(*, user: User, platform_id: int, actor: User | None, ip: str | None = None) -> IssuedToken:
    """Issue a token for ``user`` on ``platform_id``, applying the multi-login policy."""
    _check_platform(platform_id)
    if user.is_banned:
        raise DomainError(Code.USER_BANNED, f"user {user.user_id} is banned")
    now = datetime.now(UTC)
    live = list(
        Token.objects.select_for_update()
        .filter(user=user, status=TokenStatus.NORMAL, expires_at__gt=now)
        .order_by("created_at")
    )
    kicked = _conflicting(settings.IM_MULTI_LOGIN_POLICY, platform_id, live)
    if kicked:
        Token.objects.filter(pk__in=[t.pk for t in kicked]).update(status=TokenStatus.KICKED)
    ttl = settings.IM_TOKEN_TTL_SECONDS
    expires = now + timedelta(seconds=ttl)
    jti = secrets.token_hex(16)
    Token.objects.create(jti=jti, user=user, platform_id=platform_id, created_at=now, expires_at=expires)
    audit_record(
        actor=_actor(actor),
        action="token.issue",
        target_type="user",
        target_id=user.user_id,
        details={"platform_id": platform_id, "jti": jti, "kicked": [t.jti for t in kicked]},
        ip=ip,
    )
    _kick_on_commit(user.user_id, [(t.jti, t.platform_id) for t in kicked], "new_login")
    on_commit(lambda: token_status_cache_set(jti, TokenStatus.NORMAL, expires.timestamp()))
    token = token_encode(
        TokenClaims(user_id=user.user_id, platform_id=platform_id, jti=jti, expires_at=int(expires.timestamp()))
    )
    return IssuedToken(token=token, expires_in=ttl, user_id=user.user_id, platform_id=platform_id)


def admin_user_ensure(user_id: str) -> User:
    user = User.objects.filter(user_id=user_id).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(user_id, nickname=user_id, app_manager_level=2)
        except IntegrityError:
            user = User.objects.get(user_id=user_id)
    return user


def admin_token_issue(*, secret: str, user_id: str, ip: str | None = None) -> IssuedToken:
    """Trade the app secret for an admin token (the app backend's way in)."""
    if not hmac.compare_digest(secret.encode(), settings.IM_SECRET.encode()):
        raise DomainError(Code.NO_PERMISSION, "wrong secret")
    if user_id not in settings.IM_ADMIN_USER_IDS:
        raise DomainError(Code.NO_PERMISSION, f"{user_id} is not one of the admin user ids (IM_ADMIN_USER_IDS)")
    user = admin_user_ensure(user_id)
    return token_issue(user=user, platform_id=Platform.ADMIN, actor=user, ip=ip)


@transaction.atomic
def tokens_revoke(
    *,
    user: User,
    platform_id: int | None,
    actor: User | None,
    action: str = "user.force_logout",
    reason: str = "",
    ip: str | None = None,
    audit: bool = True,
) -> list[str]:
    """Kick every live token of ``user`` (on one platform, or all) and close its connections."""
    if platform_id is not None:
        _check_platform(platform_id)
    qs = Token.objects.select_for_update().filter(user=user, status=TokenStatus.NORMAL)
    if platform_id is not None:
        qs = qs.filter(platform_id=platform_id)
    rows = list(qs.values_list("pk", "jti", "platform_id"))
    Token.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(status=TokenStatus.KICKED)
    if audit:
        audit_record(
            actor=_actor(actor),
            action=action,
            target_type="user",
            target_id=user.user_id,
            details={"platform_id": platform_id, "tokens": len(rows), "reason": reason},
            ip=ip,
        )
    _kick_on_commit(user.user_id, [(jti, p) for _, jti, p in rows], action.split(".")[-1])
    return [jti for _, jti, _ in rows]


def user_force_logout(*, user_id: str, platform_id: int | None, actor: User | None, ip: str | None = None) -> int:
    user = user_get(user_id=user_id)
    return len(tokens_revoke(user=user, platform_id=platform_id, actor=actor, ip=ip))


# ------------------------------------------------------------------------- users
def user_get(*, user_id: str) -> User:
    user = User.objects.filter(user_id=user_id).first()
    if user is None:
        raise DomainError(Code.USER_NOT_FOUND, f"user {user_id} not found")
    return user


_PROFILE_FIELDS = ("nickname", "face_url", "ex", "global_recv_msg_opt", "app_manager_level")


@transaction.atomic
def users_register(*, users: list[dict[str, Any]], actor: User | None, ip: str | None = None) -> list[User]:
    """Register a batch of users; all or nothing. Existing ids → 1102."""
    ids = [u["user_id"] for u in users]
    if len(set(ids)) != len(ids):
        raise DomainError(Code.BAD_ARGS, "user_id values repeat in the batch")
    existing = sorted(User.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
    if existing:
        raise DomainError(
            Code.ALREADY_REGISTERED, f"already registered: {', '.join(existing[:20])}", data={"user_ids": existing}
        )
    objs = []
    for item in users:
        user = User(user_id=item["user_id"], **{k: item[k] for k in _PROFILE_FIELDS if k in item})
        user.set_unusable_password()
        objs.append(user)
    try:
        with transaction.atomic():
            User.objects.bulk_create(objs)
    except IntegrityError as exc:  # a concurrent registration won the race
        raise DomainError(Code.ALREADY_REGISTERED, "one of the users was registered concurrently") from exc
    audit_record_many(actor=_actor(actor), action="user.register", target_type="user", target_ids=ids, ip=ip)
    emit_on_commit("user.registered", {"user_ids": ids})  # webhook
    return list(User.objects.filter(user_id__in=ids).order_by("id"))


@transaction.atomic
def user_update(*, user: User, data: dict[str, Any], actor: User | None, ip: str | None = None) -> User:
    changed = [k for k in _PROFILE_FIELDS if k in data and getattr(user, k) != data[k]]
    for key in changed:
        setattr(user, key, data[key])
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
        # friends' devices learn of a new nickname/face (relations listens)
        user_profile_changed.send(sender=User, user=user, fields=changed)
        emit_on_commit("user.updated", {"user_id": user.user_id, **{k: getattr(user, k) for k in changed}})  # webhook
        if actor is not None and actor.pk != user.pk:
            audit_record(
                actor=_actor(actor),
                action="user.update",
                target_type="user",
                target_id=user.user_id,
                details={"fields": changed},
                ip=ip,
            )
    return user


@transaction.atomic
def user_ban(*, user: User, actor: User | None, reason: str = "", ip: str | None = None) -> User:
    """Ban: no new tokens, every live token kicked, connections closed."""
    User.objects.filter(pk=user.pk).update(is_banned=True, banned_reason=reason[:255])
    user_cache_invalidate([user.user_id])  # QuerySet.update sends no post_save
    user.is_banned, user.banned_reason = True, reason[:255]
    tokens_revoke(user=user, platform_id=None, actor=actor, action="user.ban", reason=reason, audit=False)
    audit_record(
        actor=_actor(actor), action="user.ban", target_type="user", target_id=user.user_id,
        details={"reason": reason}, ip=ip,
    )
    emit_on_commit("user.banned", {"user_id": user.user_id, "reason": reason})  # webhook
    return user


@transaction.atomic
def user_unban(*, user: User, actor: User | None, reason: str = "", ip: str | None = None) -> User:
    User.objects.filter(pk=user.pk).update(is_banned=False, banned_reason="")
    user_cache_invalidate([user.user_id])  # QuerySet.update sends no post_save
    user.is_banned, user.banned_reason = False, ""
    audit_record(
        actor=_actor(actor), action="user.unban", target_type="user", target_id=user.user_id,
        details={"reason": reason}, ip=ip,
    )
    emit_on_commit("user.unbanned", {"user_id": user.user_id})  # webhook
    return user
