"""The adapter's one door into imserver: every service and selector call it makes.

The OpenIM transports (:mod:`apps.openim.rest`, :mod:`apps.openim.consumers`) call only
these functions, so a change in another app's public functions is answered here, once.
No rules live here: each function forwards to a service or selector of accounts,
relations, groups or messaging, and returns its records.
"""

from __future__ import annotations

from typing import Any

import orjson

from apps.accounts import presence
from apps.accounts import selectors as account_selectors
from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.accounts.services import IssuedToken
from apps.accounts.tokens import TokenClaims, token_decode, token_holder
from apps.common.choices import HandleResult
from apps.common.errors import Code, DomainError
from apps.common.sideeffects import user_group
from apps.groups import selectors as group_selectors
from apps.groups import services as group_services
from apps.groups.models import Group, GroupMember
from apps.messaging import housekeeping
from apps.messaging import selectors as msg_selectors
from apps.messaging import services as msg_services
from apps.messaging.batcher import get_batcher
from apps.messaging.services.send import SendRequest, SendResult
from apps.messaging.wire import ReadReply, SendAck, WireMessage
from apps.relations import selectors as rel_selectors
from apps.relations import services as rel_services
from apps.relations.models import Black, Friend, FriendRequest

__all__ = ["IssuedToken", "TokenClaims", "user_group"]


# ------------------------------------------------------------------ accounts
def token_claims(token: str) -> TokenClaims:
    """Signature and expiry only (no I/O)."""
    return token_decode(token)


def user_for_token(token: str) -> tuple[User, TokenClaims]:
    """The user a token belongs to, revocation checked (1501/1502/1506/1507, 1103 banned)."""
    claims = token_decode(token)
    return user_for_claims(claims, check=True), claims


def user_for_claims(claims: TokenClaims, *, check: bool = False) -> User:
    """The token's user, by the rule every transport applies (1507 gone, 1103 banned; with
    ``check`` also the token's own status, 1506/1507)."""
    if check:
        return token_holder(claims)
    user = User.objects.filter(user_id=claims.user_id).first()
    if user is None:
        raise DomainError(Code.TOKEN_UNKNOWN, "the token's user no longer exists")
    elif user.is_banned:
        raise DomainError(Code.USER_BANNED, "the user is banned")
    assert user is not None  # noqa: S101 - refused above
    return user


def admin_token_issue(*, secret: str, user_id: str) -> IssuedToken:
    return account_services.admin_token_issue(secret=secret, user_id=user_id)


def user_token_issue(*, admin: User, user_id: str, platform_id: int) -> IssuedToken:
    user = account_services.user_get(user_id=user_id)
    return account_services.token_issue(user=user, platform_id=platform_id, actor=admin)


def force_logout(*, admin: User, user_id: str, platform_id: int | None) -> int:
    return account_services.user_force_logout(user_id=user_id, platform_id=platform_id, actor=admin)


def users_register(*, admin: User, users: list[dict[str, Any]]) -> list[User]:
    return account_services.users_register(users=users, actor=admin)


def users_get(*, user_ids: list[str]) -> list[User]:
    found = {u.user_id: u for u in account_selectors.users_by_ids(user_ids=user_ids)}
    return [found[u] for u in dict.fromkeys(user_ids) if u in found]


def user_update(*, user: User, data: dict[str, Any]) -> User:
    return account_services.user_update(user=user, data=data, actor=user)


def presence_connect(*, user_id: str, conn_id: str, platform_id: int) -> None:
    presence.presence_connect(user_id=user_id, conn_id=conn_id, platform_id=platform_id)


def presence_disconnect(*, user_id: str, conn_id: str, platform_id: int) -> None:
    presence.presence_disconnect(user_id=user_id, conn_id=conn_id, platform_id=platform_id)


def presence_watch(*, watcher_id: str, user_ids: list[str]) -> dict[str, list[int]]:
    return presence.presence_watch(watcher_id=watcher_id, user_ids=user_ids)


def presence_unwatch(*, watcher_id: str, user_ids: list[str]) -> None:
    presence.presence_unwatch(watcher_id=watcher_id, user_ids=user_ids)


def presence_map(*, user_ids: list[str]) -> dict[str, list[int]]:
    return presence.presence_online_map(user_ids=user_ids)


# ------------------------------------------------------------------ relations
def friends_of(*, owner_id: str) -> list[Friend]:
    return list(rel_selectors.friend_list(owner_id=owner_id))


def friends_designated(*, owner_id: str, friend_ids: list[str]) -> list[Friend]:
    wanted = set(friend_ids)
    return [f for f in rel_selectors.friend_list(owner_id=owner_id) if f.friend_id in wanted]


def friend_ids(*, owner_id: str) -> list[str]:
    return [f.friend_id for f in rel_selectors.friend_list(owner_id=owner_id)]


def are_friends(*, user_id: str, friend_id: str) -> bool:
    return rel_selectors.are_friends(user_id=user_id, friend_id=friend_id)


def friend_request_send(*, user: User, to_user_id: str, message: str, ex: dict[str, Any]) -> FriendRequest:
    return rel_services.friend_request_send(from_user=user, to_user_id=to_user_id, message=message, ex=ex)


def friend_request_answer(*, user: User, from_user_id: str, accept: bool, handle_msg: str) -> FriendRequest:
    req = (
        rel_selectors.friend_requests_received(user_id=user.user_id, handle_result=HandleResult.PENDING)
        .filter(from_user_id=from_user_id)
        .first()
    )
    if req is None:
        raise DomainError(Code.NOT_FOUND, f"no pending friend request from {from_user_id}")
    answer = rel_services.friend_request_accept if accept else rel_services.friend_request_refuse
    return answer(request_id=req.pk, by=user, handle_msg=handle_msg)


def friend_requests(*, user_id: str, received: bool) -> list[FriendRequest]:
    select = rel_selectors.friend_requests_received if received else rel_selectors.friend_requests_sent
    return list(select(user_id=user_id))


def friend_delete(*, user: User, friend_id: str) -> None:
    rel_services.friend_delete(owner=user, friend_id=friend_id)


def friend_update(*, user: User, friend_id: str, data: dict[str, Any]) -> Friend:
    return rel_services.friend_update(owner=user, friend_id=friend_id, data=data)


def black_add(*, user: User, user_id: str) -> Black:
    return rel_services.black_add(owner=user, user_id=user_id)


def black_remove(*, user: User, user_id: str) -> None:
    rel_services.black_remove(owner=user, user_id=user_id)


def blacklist(*, owner_id: str) -> list[Black]:
    return list(rel_selectors.blacklist(owner_id=owner_id))


# ------------------------------------------------------------------ groups
def group_create(*, owner: User, actor: User, name: str, member_ids: list[str], admin_ids: list[str],
                 group_id: str | None, fields: dict[str, Any]) -> Group:
    return group_services.group_create(
        owner=owner, actor=actor, name=name, member_ids=member_ids, admin_ids=admin_ids, group_id=group_id, **fields
    )


def groups_get(*, group_ids: list[str]) -> list[Group]:
    return group_selectors.groups_by_ids(group_ids=group_ids)


def group_members(*, group_id: str, viewer: User, user_ids: list[str] | None = None) -> list[GroupMember]:
    group_selectors.group_for_viewer(group_id=group_id, viewer=viewer)
    members = group_selectors.group_members(group_id=group_id)
    if user_ids is not None:
        members = members.filter(user_id__in=user_ids)
    return list(members)


def group_member_ids(*, group_id: str, viewer: User) -> list[str]:
    group_selectors.group_for_viewer(group_id=group_id, viewer=viewer)
    return group_selectors.group_member_ids(group_id=group_id)


def joined_group_ids(*, user_id: str) -> list[str]:
    return group_selectors.user_group_ids(user_id=user_id)


def memberships(*, user_id: str) -> list[GroupMember]:
    """The user's memberships with ``group`` loaded and ``group_member_count``."""
    return list(group_selectors.joined_groups(user_id=user_id))


def joined_groups(*, user_id: str) -> list[Group]:
    return groups_get(group_ids=joined_group_ids(user_id=user_id))


def group_invite(*, actor: User, group_id: str, user_ids: list[str], reason: str) -> dict[str, Any]:
    return group_services.group_invite(group_id=group_id, actor=actor, user_ids=user_ids, message=reason)


def group_join(*, user: User, group_id: str, message: str) -> dict[str, Any]:
    return group_services.group_join(group_id=group_id, user=user, message=message)


def group_quit(*, user: User, group_id: str) -> None:
    group_services.group_quit(group_id=group_id, user=user)


def group_kick(*, actor: User, group_id: str, user_ids: list[str], reason: str) -> list[str]:
    return group_services.group_kick(group_id=group_id, actor=actor, user_ids=user_ids, reason=reason)


def group_dismiss(*, actor: User, group_id: str) -> Group:
    return group_services.group_dismiss(group_id=group_id, actor=actor)


# ------------------------------------------------------------------ messaging
def conversations(*, user_id: str, conversation_ids: list[str] | None = None, last: bool = False) -> list[dict[str, Any]]:
    """The user's conversations (hidden ones too), optionally only ``conversation_ids``; with
    ``last`` each carries its ``last_message``."""
    items = msg_selectors.conversations_list(user_id=user_id, include_hidden=True)
    if conversation_ids is not None:
        wanted = set(conversation_ids)
        items = [c for c in items if c["conversation_id"] in wanted]
    if last:
        items = msg_selectors.conversations_decorate(user_id=user_id, items=items)
    return items


def pull(
    *, user_id: str, conversation_id: str, from_seq: int | None = None, to_seq: int | None = None,
    seqs: list[int] | None = None, limit: int | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Messages by seq range or list (placeholders for missing seqs) and ``is_end``."""
    result = msg_selectors.messages_pull(
        user_id=user_id, conversation_id=conversation_id, from_seq=from_seq, to_seq=to_seq, seqs=seqs, limit=limit
    )
    return orjson.loads(orjson.dumps(result.messages)), result.is_end


def pull_max_limit() -> int:
    from django.conf import settings

    return int(settings.IM_PULL_MAX_LIMIT)


def conversation_read(*, user_id: str, conversation_id: str, seq: int) -> ReadReply:
    return msg_services.conversation_read(user_id=user_id, conversation_id=conversation_id, seq=seq)


def conversation_update(*, user_id: str, conversation_id: str, changes: dict[str, Any]) -> None:
    msg_services.conversation_update(user_id=user_id, conversation_id=conversation_id, **changes)


def message_revoke(*, user_id: str, conversation_id: str, seq: int) -> WireMessage:
    return msg_services.message_revoke(user_id=user_id, conversation_id=conversation_id, seq=seq, server_msg_id=None)


def message_send_by_admin(*, send_id: str, session_type: int, content_type: int, content: Any, recv_id: str,
                          group_id: str, client_msg_id: str) -> SendResult:
    sender = account_services.user_get(user_id=send_id)
    return msg_services.message_send(
        send_id=send_id, session_type=session_type, content_type=content_type, content=content,
        recv_id=recv_id, group_id=group_id, client_msg_id=client_msg_id,
        sender_nickname=sender.nickname, sender_face_url=sender.face_url, trusted=True,
    )


async def message_send(
    *, send_id: str, session_type: int, content_type: int, content: Any, client_msg_id: str, recv_id: str,
    group_id: str, platform_id: int, nickname: str, face_url: str, origin: str,
) -> SendAck:
    """Send from a websocket (through the send batcher); the ack, or raises the DomainError."""
    req = SendRequest(
        send_id=send_id, session_type=session_type, content_type=content_type, content=content,
        client_msg_id=client_msg_id, recv_id=recv_id, group_id=group_id, sender_platform_id=platform_id,
        sender_nickname=nickname, sender_face_url=face_url, origin=origin,
    )
    result = await get_batcher().submit(req)
    if isinstance(result, DomainError):
        raise result
    return result.ack


async def live_register(conn: Any) -> None:
    """Track a live connection in this process: idle timeout, presence refresh, node pushes."""
    await housekeeping.register(conn)


def live_unregister(conn: Any) -> None:
    housekeeping.unregister(conn)
