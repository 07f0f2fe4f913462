"""Writes for messaging: send, notifications, revoke, read, conversation settings.

Every front door (websocket gateway, REST, other apps' services) calls these. Side
effects (pushes) are scheduled with ``transaction.on_commit``; group fan-out goes
through :func:`apps.messaging.delivery.deliver_group_message`.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.common.cachekeys import invalidate
from apps.common.errors import Code, DomainError
from apps.common.sideeffects import on_commit
from apps.messaging import delivery, offline
from apps.messaging.models import (
    ContentType,
    Conversation,
    Message,
    MessageDeletion,
    MsgStatus,
    RecvOpt,
    SessionType,
    UserConversation,
)
from apps.messaging.selectors import conversation_for_user, group_rejecters_key, peers_of, placeholder
from apps.messaging.seq import read_seq_raise, user_conversations_touch
from apps.messaging.store import (
    SendRequest,
    SendResult,
    _Collision,
    _store,
    collision_error,
    group_conversation_id,
    message_wire,
    messages_send,
    notification_conversation_id,
    now_ms,
    single_conversation_id,
)

__all__ = [
    "SendRequest",
    "SendResult",
    "conversation_members_init",
    "conversation_members_leave",
    "conversation_read",
    "conversation_update",
    "message_delete",
    "message_delete_for_me",
    "message_revoke",
    "message_send",
    "message_send_by",
    "messages_send",
    "notification_store",
]


def _deliver_on_commit(skip: str | None = None):  # type: ignore[no-untyped-def]
    def schedule(stored: list[dict[str, Any]]) -> None:
        for message in stored:
            on_commit(lambda m=message: delivery.deliver_message(m, skip))

    return schedule


# -------------------------------------------------------------------------- send
def message_send(
    *,
    send_id: str,
    session_type: int,
    content_type: int,
    content: Any,
    client_msg_id: str = "",
    recv_id: str = "",
    group_id: str = "",
    sender_platform_id: int = 0,
    sender_nickname: str = "",
    sender_face_url: str = "",
    trusted: bool = False,
) -> SendResult:
    """Send one message (REST and admin path): validate, store in one transaction, deliver after commit.

    ``trusted`` (app admins sending on someone's behalf) skips membership, blacklist and
    receive-option checks and allows notification content types.
    """
    req = SendRequest(
        send_id=send_id,
        session_type=session_type,
        content_type=content_type,
        content=content,
        client_msg_id=client_msg_id,
        recv_id=recv_id or "",
        group_id=group_id or "",
        sender_platform_id=sender_platform_id,
        sender_nickname=sender_nickname,
        sender_face_url=sender_face_url,
        trusted=trusted,
        allow_notifications=trusted,
    )
    (result,) = messages_send([req], on_stored=_deliver_on_commit())
    if isinstance(result, DomainError):
        raise result
    return result


def message_send_by(
    *,
    actor: User,
    actor_platform_id: int,
    session_type: int,
    content_type: int,
    content: Any,
    client_msg_id: str = "",
    recv_id: str = "",
    group_id: str = "",
    send_id: str = "",
    sender_platform_id: int = 0,
) -> SendResult:
    """A send through the REST API by ``actor`` (the authenticated user).

    A user sends as themself from the platform of their token. An app admin may send on
    behalf of any existing user (``send_id``), name the platform, and send notification
    content types and session type 4; their sends are trusted (see :func:`message_send`).
    """
    send_id = send_id or actor.user_id
    sender = actor
    if not actor.is_app_admin:
        if send_id != actor.user_id or session_type == SessionType.NOTIFICATION:
            raise DomainError(Code.NO_PERMISSION, "only admins may send on behalf of another user or send notifications")
        sender_platform_id = actor_platform_id
    else:
        if send_id != actor.user_id:
            sender = User.objects.filter(user_id=send_id).only("nickname", "face_url").first()
            if sender is None:
                raise DomainError(Code.USER_NOT_FOUND, f"user {send_id} not found")
        # a trusted send skips the rules, not the addressee: no log for a user or group that does not exist
        if session_type == SessionType.GROUP and isinstance(group_id, str) and group_id:
            from apps.groups.selectors import group_get

            group_get(group_id=group_id)
        elif session_type != SessionType.GROUP and isinstance(recv_id, str) and recv_id:
            if not User.objects.filter(user_id=recv_id).exists():
                raise DomainError(Code.USER_NOT_FOUND, f"user {recv_id} not found")
    return message_send(
        send_id=send_id,
        session_type=session_type,
        content_type=content_type,
        content=content,
        client_msg_id=client_msg_id,
        recv_id=recv_id,
        group_id=group_id,
        sender_platform_id=sender_platform_id or actor_platform_id,
        sender_nickname=sender.nickname,
        sender_face_url=sender.face_url,
        trusted=actor.is_app_admin,
    )


def notification_store(
    *,
    send_id: str,
    session_type: int,
    content_type: int,
    content: dict,
    recv_id: str | None = None,
    group_id: str | None = None,
) -> dict:
    """Store a notification message inside the caller's transaction and deliver it after commit.

    No membership, mute or blacklist checks. Allocates the next seq of ``si_<a>_<b>``
    (session_type 1, with ``recv_id``), ``sg_<group_id>`` (3) or ``n_<a>_<b>`` (4, with
    ``recv_id``). Returns the stored message as a wire dict.
    """
    if session_type == SessionType.GROUP:
        if not group_id:
            raise DomainError(Code.BAD_ARGS, "group_id is required for a group notification")
        cid = group_conversation_id(group_id)
    elif session_type in (SessionType.SINGLE, SessionType.NOTIFICATION):
        if not recv_id:
            raise DomainError(Code.BAD_ARGS, "recv_id is required for a single-chat notification")
        make = single_conversation_id if session_type == SessionType.SINGLE else notification_conversation_id
        cid = make(send_id, recv_id)
    else:
        raise DomainError(Code.BAD_ARGS, f"unknown session_type {session_type}")
    if not isinstance(content, dict):
        raise DomainError(Code.BAD_ARGS, "content must be an object")
    req = SendRequest(
        send_id=send_id,
        session_type=session_type,
        content_type=content_type,
        content=content,
        client_msg_id=uuid.uuid4().hex,
        recv_id=(recv_id or "") if session_type != SessionType.GROUP else "",
        group_id=(group_id or "") if session_type == SessionType.GROUP else "",
        trusted=True,
        allow_notifications=True,
    )
    req.conversation_id = cid
    try:
        with transaction.atomic():
            (message,) = _store([req])
    except _Collision as exc:
        raise collision_error(cid) from exc
    on_commit(lambda: delivery.deliver_message(message))
    return message


# ------------------------------------------------------------------------ revoke
def _find_message(*, user_id: str, conversation_id: str | None, seq: int | None, server_msg_id: str | None) -> Message:
    qs = Message.objects.select_for_update()
    if server_msg_id:
        msg = qs.filter(server_msg_id=server_msg_id).first()
    elif conversation_id and seq is not None:
        msg = qs.filter(conversation_id=conversation_id, seq=seq).first()
    else:
        raise DomainError(Code.BAD_ARGS, "give server_msg_id, or conversation_id and seq")
    if msg is None or msg.status == MsgStatus.DELETED:
        raise DomainError(Code.MESSAGE_NOT_FOUND)
    return msg


@transaction.atomic
def message_revoke(
    *,
    user_id: str,
    conversation_id: str | None = None,
    seq: int | None = None,
    server_msg_id: str | None = None,
    as_app_admin: bool = False,
    reason: str = "",
) -> dict[str, Any]:
    """Revoke a message and leave a 2101 notice in its conversation; returns the notice.

    The sender may revoke within ``IM_REVOKE_WINDOW_SECONDS``; group owners and admins
    may revoke any message of their group at any time; app admins anything.
    """
    msg = _find_message(user_id=user_id, conversation_id=conversation_id, seq=seq, server_msg_id=server_msg_id)
    role = 0
    if not as_app_admin:
        try:
            _conv, role = conversation_for_user(user_id=user_id, conversation_id=msg.conversation_id)
        except DomainError as exc:  # do not reveal other users' messages
            raise DomainError(Code.MESSAGE_NOT_FOUND) from exc
    if msg.status == MsgStatus.REVOKED:
        raise DomainError(Code.ALREADY_REVOKED)
    if not as_app_admin and role < 60:
        if msg.send_id != user_id:
            raise DomainError(Code.NO_PERMISSION, "only the sender (or a group owner/admin) can revoke this message")
        if now_ms() - msg.send_time > settings.IM_REVOKE_WINDOW_SECONDS * 1000:
            raise DomainError(
                Code.REVOKE_WINDOW_PASSED, f"messages can be revoked within {settings.IM_REVOKE_WINDOW_SECONDS} s"
            )
    msg.status = MsgStatus.REVOKED
    msg.save(update_fields=["status"])
    offline.replace(conversation_id=msg.conversation_id, seq=msg.seq, payload=orjson.dumps(message_wire(msg)).decode())
    now = now_ms()
    content = {
        "revoker_id": user_id,
        "revoker_role": role or (100 if as_app_admin else 0),
        "server_msg_id": msg.server_msg_id,
        "client_msg_id": msg.client_msg_id,
        "seq": msg.seq,
        "source_send_id": msg.send_id,
        "source_send_time": msg.send_time,
        "revoke_time": now,
        "session_type": msg.session_type,
    }
    if reason:
        content["reason"] = str(reason)[:255]
    req = SendRequest(
        send_id=user_id,
        session_type=msg.session_type,
        content_type=int(ContentType.REVOKE),
        content=content,
        client_msg_id=uuid.uuid4().hex,
        recv_id=(msg.recv_id if msg.send_id == user_id else msg.send_id) if msg.session_type != SessionType.GROUP else "",
        group_id=msg.group_id,
        trusted=True,
        allow_notifications=True,
    )
    if msg.session_type != SessionType.GROUP and user_id not in (msg.send_id, msg.recv_id):
        # an app admin revoking a single-chat message: the notice stays in the same conversation
        req.send_id, req.recv_id = msg.send_id, msg.recv_id
        content["revoker_id"] = user_id
    req.conversation_id = msg.conversation_id
    (notice,) = _store([req])
    on_commit(lambda: delivery.deliver_message(notice))
    return notice


# ------------------------------------------------------------------- read state
@transaction.atomic
def conversation_read(*, user_id: str, conversation_id: str, seq: int) -> dict[str, Any]:
    """Raise the user's read seq (never lowers it); the peer and the user's devices get a receipt push."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise DomainError(Code.BAD_ARGS, "seq must be a non-negative integer")
    conv, _role = conversation_for_user(user_id=user_id, conversation_id=conversation_id, former=True)
    seq = min(seq, conv.max_seq)
    current = (
        UserConversation.objects.filter(owner_id=user_id, conversation_id=conversation_id)
        .values_list("read_seq", flat=True)
        .first()
    ) or 0
    if seq <= current:
        return {"conversation_id": conversation_id, "read_seq": current, "max_seq": conv.max_seq}
    read_seq_raise(owner_id=user_id, conversation_id=conversation_id, session_type=conv.session_type, seq=seq)
    receipt = {"conversation_id": conversation_id, "user_id": user_id, "read_seq": seq}
    targets = [user_id, *peers_of(conv, user_id)] if conv.session_type != SessionType.GROUP else [user_id]
    on_commit(lambda: delivery.push_to_users(targets, "push.read", receipt))
    return {"conversation_id": conversation_id, "read_seq": seq, "max_seq": conv.max_seq}


_UPDATABLE = {"is_pinned", "recv_opt", "draft", "is_hidden"}


@transaction.atomic
def conversation_update(*, user_id: str, conversation_id: str, **changes: Any) -> UserConversation:
    """Pin, receive option (0 normal, 1 reject, 2 no push), draft, hide."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise DomainError(Code.BAD_ARGS, f"cannot change {', '.join(sorted(unknown))}")
    if "recv_opt" in changes and changes["recv_opt"] not in RecvOpt.values:
        raise DomainError(Code.BAD_ARGS, "recv_opt must be 0 (normal), 1 (reject) or 2 (no push)")
    conv, _role = conversation_for_user(user_id=user_id, conversation_id=conversation_id, former=True)
    row, _ = UserConversation.objects.select_for_update().get_or_create(
        owner_id=user_id, conversation_id=conversation_id, defaults={"session_type": conv.session_type}
    )
    for key, value in changes.items():
        setattr(row, key, value)
    now = now_ms()
    if "draft" in changes:
        row.draft_time = now
    row.update_time = now
    row.save()
    if "recv_opt" in changes and conv.session_type == SessionType.GROUP:
        invalidate([group_rejecters_key(conversation_id)])  # the group fan-out skips members who reject
    return row


@transaction.atomic
def message_delete_for_me(*, user_id: str, server_msg_id: str) -> None:
    """Hide one message from the user's own pulls and history (others keep it)."""
    msg = Message.objects.filter(server_msg_id=server_msg_id).values_list("conversation_id", "seq").first()
    if msg is None:
        raise DomainError(Code.MESSAGE_NOT_FOUND)
    try:
        conv, _role = conversation_for_user(user_id=user_id, conversation_id=msg[0], former=True)
    except DomainError as exc:
        raise DomainError(Code.MESSAGE_NOT_FOUND) from exc
    if msg[1] > conv.max_seq:  # sent after the user left the group
        raise DomainError(Code.MESSAGE_NOT_FOUND)
    try:
        with transaction.atomic():
            MessageDeletion.objects.create(owner_id=user_id, conversation_id=msg[0], seq=msg[1], create_time=now_ms())
    except IntegrityError:
        pass  # already deleted for this user


# ------------------------------------------------------------ group membership
def _group_max_seq(cid: str) -> int:
    return Conversation.objects.filter(conversation_id=cid).values_list("max_seq", flat=True).first() or 0


def conversation_members_init(*, group_id: str, user_ids: list[str]) -> None:
    """Members who just joined a group start read at its current seq (no unread backlog).

    Called by the groups services inside their transaction, after the join tip is stored.
    A member who comes back is a member again: the seq frozen when they left is cleared
    and the whole history is readable (OpenIM's default ``enableHistoryForNewMembers``).
    """
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return
    cid = group_conversation_id(group_id)
    user_conversations_touch([(u, cid, SessionType.GROUP, _group_max_seq(cid)) for u in ids], unhide=False)
    UserConversation.objects.filter(owner_id__in=ids, conversation_id=cid, frozen_max_seq__gt=0).update(
        frozen_max_seq=0
    )


def conversation_members_leave(*, group_id: str, user_ids: list[str]) -> None:
    """Members who left a group (kicked or quit) keep read access up to its current seq, nothing after.

    Called by the groups services inside their transaction, after the leave tip is stored
    and the membership deleted, so the tip is the last message the leaver can read.
    """
    ids = list(dict.fromkeys(user_ids))
    cid = group_conversation_id(group_id)
    max_seq = _group_max_seq(cid)
    if not ids or not max_seq:
        return
    have = set(
        UserConversation.objects.filter(owner_id__in=ids, conversation_id=cid).values_list("owner_id", flat=True)
    )
    if have:
        UserConversation.objects.filter(owner_id__in=have, conversation_id=cid).update(frozen_max_seq=max_seq)
    missing = [u for u in ids if u not in have]
    if missing:
        UserConversation.objects.bulk_create(
            [
                UserConversation(owner_id=u, conversation_id=cid, session_type=SessionType.GROUP, frozen_max_seq=max_seq)
                for u in missing
            ],
            ignore_conflicts=True,
        )


# -------------------------------------------------------------- operator delete
def _conversation_audience(msg: Message) -> list[str]:
    if msg.session_type == SessionType.GROUP:
        from apps.groups.selectors import group_member_ids

        return group_member_ids(group_id=msg.group_id)
    return [u for u in dict.fromkeys((msg.send_id, msg.recv_id)) if u]


@transaction.atomic
def message_delete(*, server_msg_id: str, actor: Any, reason: str, ip: str | None = None) -> dict[str, Any]:
    """An operator deletes a message for everyone: status 4, pulls return a placeholder.

    The stored history row keeps its content for operators; the offline payload is
    replaced by a deleted placeholder (same seq, status 4, same ``server_msg_id``), so
    clients pulling advance past it; online participants get ``push.msg.deleted`` to drop
    their copy. Writes exactly one audit row (``message.delete``) with the reason and IP.
    Returns the push payload.
    """
    reason = str(reason or "").strip()
    if not reason:
        raise DomainError(Code.BAD_ARGS, "reason: an operator delete needs a reason")
    msg = Message.objects.select_for_update().filter(server_msg_id=server_msg_id).first()
    if msg is None:
        raise DomainError(Code.MESSAGE_NOT_FOUND)
    if msg.status == MsgStatus.DELETED:
        raise DomainError(Code.MESSAGE_NOT_FOUND, "the message is already deleted")
    msg.status = MsgStatus.DELETED
    msg.save(update_fields=["status"])
    stub = {**placeholder(msg.conversation_id, msg.seq), "server_msg_id": msg.server_msg_id}
    offline.replace(conversation_id=msg.conversation_id, seq=msg.seq, payload=orjson.dumps(stub).decode())
    actor_id = getattr(actor, "user_id", None) or str(actor)
    audit_record(
        actor=actor_id,
        action="message.delete",
        target_type="message",
        target_id=msg.server_msg_id,
        details={
            "reason": reason[:255],
            "conversation_id": msg.conversation_id,
            "seq": msg.seq,
            "send_id": msg.send_id,
        },
        ip=ip,
    )
    notice = {"conversation_id": msg.conversation_id, "seq": msg.seq, "server_msg_id": msg.server_msg_id}
    audience = _conversation_audience(msg)
    on_commit(lambda: delivery.push_to_users(audience, "push.msg.deleted", notice))
    return notice
