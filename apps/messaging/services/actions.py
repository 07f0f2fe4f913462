"""Writes for messaging besides sending: revoke, read, conversation settings, group
membership of the log, operator delete.

Side effects (pushes) are scheduled with ``transaction.on_commit`` through
:mod:`apps.messaging.delivery`; notices go into the log through
:func:`apps.messaging.services.send.notification_send`.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction

from apps.audit.services import OperatorAction, audit_record
from apps.common import versionlog
from apps.common.cachekeys import invalidate
from apps.common.errors import Code, DomainError
from apps.common.push import push_to_users
from apps.common.sideeffects import on_commit
from apps.groups.selectors import group_member_ids
from apps.messaging import offline
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
from apps.messaging.selectors import conversation_for_user, group_rejecters_key, peers_of
from apps.messaging.seq import read_seq_raise, user_conversations_touch
from apps.messaging.services.send import notification_send
from apps.messaging.wire import ReadReply, WireMessage, group_conversation_id, message_wire, now_ms, placeholder


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
    operator: OperatorAction | None = None,
) -> WireMessage:
    """Revoke a message and leave a 2101 notice in its conversation; returns the notice.

    The sender may revoke within ``IM_REVOKE_WINDOW_SECONDS``; group owners and admins
    may revoke any message of their group at any time; app admins anything. With
    ``operator`` (the admin console) the revoke writes its one ``message.revoke`` audit row.
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
    if operator is not None:
        operator.record(
            action="message.revoke", target_type="message", target_id=msg.server_msg_id,
            details={"conversation_id": msg.conversation_id, "seq": msg.seq, "send_id": msg.send_id},
        )
    send_id, recv_id = user_id, msg.recv_id if msg.send_id == user_id else msg.send_id
    if msg.session_type != SessionType.GROUP and user_id not in (msg.send_id, msg.recv_id):
        # an app admin revoking a single-chat message: the notice stays in the same conversation
        send_id, recv_id = msg.send_id, msg.recv_id
    # the notice goes to the revoked message's own conversation (the pair, or the group)
    return notification_send(
        send_id=send_id,
        session_type=msg.session_type,
        content_type=int(ContentType.REVOKE),
        content=content,
        recv_id=recv_id if msg.session_type != SessionType.GROUP else None,
        group_id=msg.group_id if msg.session_type == SessionType.GROUP else None,
    )


# ------------------------------------------------------------------- read state
@transaction.atomic
def conversation_read(*, user_id: str, conversation_id: str, seq: int) -> ReadReply:
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
    # my list shows my read seq and unread count: my other devices' syncs and my next page see it at once
    versionlog.record(versionlog.CONVERSATIONS, user_id, [(conversation_id, versionlog.UPDATE)])
    receipt = {"conversation_id": conversation_id, "user_id": user_id, "read_seq": seq}
    targets = [user_id, *peers_of(conv, user_id)] if conv.session_type != SessionType.GROUP else [user_id]
    on_commit(lambda: push_to_users(targets, "push.read", receipt))
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
    versionlog.record(versionlog.CONVERSATIONS, user_id, [(conversation_id, versionlog.UPDATE)])
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
    versionlog.record_many(versionlog.CONVERSATIONS, ids, cid, versionlog.INSERT)


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
    versionlog.record_many(versionlog.CONVERSATIONS, ids, cid, versionlog.UPDATE)  # now is_member false
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
    stub = placeholder(msg.conversation_id, msg.seq, msg.server_msg_id)
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
    on_commit(lambda: push_to_users(audience, "push.msg.deleted", notice))
    return notice
