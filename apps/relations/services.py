"""Writes for friend requests, friends and the blacklist (one transaction each).

Friend events are stored as messages (content types 1201–1210, session_type 1)
for the users concerned: a request, its acceptance or refusal, and a deletion
go to the other side; remark/pin changes and blacklist changes go to the user
themselves (a blocked user is never told).
"""

from __future__ import annotations

from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import OperatorAction, audit_record
from apps.common import versionlog
from apps.common.cachekeys import invalidate
from apps.common.errors import Code, DomainError
from apps.common.push import push_to_users
from apps.common.sideeffects import on_commit
from apps.messaging.notifications import FriendNote, notify_user
from apps.relations import selectors
from apps.relations.models import AddSource, Black, Friend, FriendRequest, HandleResult


def _user(user_id: str) -> User:
    user = User.objects.filter(user_id=user_id).first()
    if user is None:
        raise DomainError(Code.USER_NOT_FOUND, f"user {user_id} not found")
    return user


def _friend_changed(*pairs: tuple[str, str]) -> None:
    invalidate(selectors.friend_key(a, b) for a, b in pairs)


def _request_tip(req: FriendRequest) -> dict[str, Any]:
    return {
        "request_id": req.pk,
        "from_user_id": req.from_user_id,
        "to_user_id": req.to_user_id,
        "message": req.message,
        "handle_result": req.handle_result,
        "handle_msg": req.handle_msg,
    }


def _make_friends(a: str, b: str, *, source: int, operator: str) -> list[str]:
    """Create the rows a→b and b→a that are missing; returns the owners that got a row."""
    now = timezone.now()
    existing = set(
        Friend.objects.filter(owner_id__in=[a, b], friend_id__in=[a, b]).values_list("owner_id", "friend_id")
    )
    created = []
    for owner, friend in ((a, b), (b, a)):
        if (owner, friend) not in existing:
            Friend.objects.create(owner_id=owner, friend_id=friend, add_source=source, operator_user_id=operator,
                                  created_at=now)
            created.append(owner)
            versionlog.record(versionlog.FRIENDS, owner, [(friend, versionlog.INSERT)])
    _friend_changed((a, b), (b, a))
    return created


# ------------------------------------------------------------ requests
@transaction.atomic
def friend_request_send(*, from_user: User, to_user_id: str, message: str = "", ex: dict[str, Any] | None = None) -> FriendRequest:
    """Ask ``to_user_id`` to be friends. Refused: yourself (1301), blocked (1302), already friends (1304)."""
    if to_user_id == from_user.user_id:
        raise DomainError(Code.CANNOT_ADD_SELF, "you cannot add yourself as a friend")
    _user(to_user_id)
    if Black.objects.filter(owner_id=to_user_id, blocked_id=from_user.user_id).exists():
        raise DomainError(Code.BLOCKED_BY_PEER, f"{to_user_id} has blocked you")
    pair = set(
        Friend.objects.filter(owner_id__in=[from_user.user_id, to_user_id], friend_id__in=[from_user.user_id, to_user_id])
        .values_list("owner_id", flat=True)
    )
    if pair == {from_user.user_id, to_user_id}:
        raise DomainError(Code.ALREADY_FRIENDS, f"you and {to_user_id} are already friends")
    now = timezone.now()
    req = FriendRequest.objects.select_for_update().filter(from_user_id=from_user.user_id, to_user_id=to_user_id).first()
    if req is None:
        try:
            with transaction.atomic():
                req = FriendRequest.objects.create(
                    from_user_id=from_user.user_id, to_user_id=to_user_id, message=message, ex=ex or {}, created_at=now
                )
        except IntegrityError as exc:  # the same request was sent concurrently
            raise DomainError(Code.DUPLICATE, "the same friend request is being sent concurrently") from exc
    else:  # asking again reopens the request
        req.message, req.ex, req.created_at = message, ex or {}, now
        req.handle_result, req.handle_msg, req.handler_user_id, req.handled_at = HandleResult.PENDING, "", "", None
        req.save()
    notify_user(send_id=from_user.user_id, recv_id=to_user_id, content_type=FriendNote.REQUEST, content=_request_tip(req))
    return req


def _pending_for(*, request_id: int, by: User) -> FriendRequest:
    req = FriendRequest.objects.select_for_update().filter(pk=request_id).first()
    # a request addressed to someone else is "not found" for the caller
    if req is None or req.to_user_id != by.user_id:
        raise DomainError(Code.NOT_FOUND, f"friend request {request_id} not found")
    if req.handle_result != HandleResult.PENDING:
        raise DomainError(Code.FRIEND_REQUEST_HANDLED, f"friend request {request_id} was already handled")
    return req


def _handled(req: FriendRequest, *, result: int, by: str, handle_msg: str) -> None:
    req.handle_result, req.handle_msg, req.handler_user_id, req.handled_at = result, handle_msg, by, timezone.now()
    req.save(update_fields=["handle_result", "handle_msg", "handler_user_id", "handled_at"])


@transaction.atomic
def friend_request_accept(*, request_id: int, by: User, handle_msg: str = "") -> FriendRequest:
    """Accept: both become friends; a crossing pending request the other way is accepted too."""
    req = _pending_for(request_id=request_id, by=by)
    _handled(req, result=HandleResult.ACCEPTED, by=by.user_id, handle_msg=handle_msg)
    crossing = (
        FriendRequest.objects.select_for_update()
        .filter(from_user_id=by.user_id, to_user_id=req.from_user_id, handle_result=HandleResult.PENDING)
        .first()
    )
    if crossing is not None:
        _handled(crossing, result=HandleResult.ACCEPTED, by=by.user_id, handle_msg=handle_msg)
    _make_friends(req.from_user_id, by.user_id, source=AddSource.REQUEST, operator=by.user_id)
    notify_user(send_id=by.user_id, recv_id=req.from_user_id, content_type=FriendNote.REQUEST_ACCEPTED,
                content=_request_tip(req))
    return req


@transaction.atomic
def friend_request_refuse(
    *, request_id: int, by: User, handle_msg: str = "", operator: OperatorAction | None = None
) -> FriendRequest:
    """The recipient ``by`` refuses a pending request (``operator``: an operator does it for them, audited)."""
    req = _pending_for(request_id=request_id, by=by)
    _handled(req, result=HandleResult.REFUSED, by=by.user_id, handle_msg=handle_msg)
    notify_user(send_id=by.user_id, recv_id=req.from_user_id, content_type=FriendNote.REQUEST_REFUSED,
                content=_request_tip(req))
    if operator is not None:
        operator.record(action="friend_request.refuse", target_type="user", target_id=req.to_user_id,
                        details={"request_id": req.pk, "from_user_id": req.from_user_id})
    return req


# ------------------------------------------------------------ friends
@transaction.atomic
def friend_delete(*, owner: User, friend_id: str) -> None:
    """Remove ``friend_id`` from the owner's list (one direction, as OpenIM does); 1303 if not there."""
    deleted, _ = Friend.objects.filter(owner_id=owner.user_id, friend_id=friend_id).delete()
    if not deleted:
        raise DomainError(Code.NOT_FRIENDS, f"{friend_id} is not in your friend list")
    _friend_changed((owner.user_id, friend_id))
    versionlog.record(versionlog.FRIENDS, owner.user_id, [(friend_id, versionlog.DELETE)])
    notify_user(send_id=owner.user_id, recv_id=friend_id, content_type=FriendNote.FRIEND_DELETED,
                content={"from_user_id": owner.user_id, "to_user_id": friend_id})


@transaction.atomic
def friendship_remove(*, user_id: str, friend_id: str, actor: User, reason: str = "", ip: str | None = None) -> None:
    """Operator correction: remove a friendship both ways; each side is told (1205). One audit row."""
    rows = Friend.objects.filter(owner_id__in=[user_id, friend_id], friend_id__in=[user_id, friend_id])
    owner_ids = cast(list[str], list(rows.values_list("owner_id", flat=True)))  # a to_field foreign key: user ids (str), not pks
    owners = sorted(set(owner_ids), key=lambda owner: owner != user_id)
    if not owners:
        raise DomainError(Code.NOT_FRIENDS, f"{user_id} and {friend_id} are not friends")
    rows.delete()
    _friend_changed((user_id, friend_id), (friend_id, user_id))
    for owner in owners:
        other = friend_id if owner == user_id else user_id
        versionlog.record(versionlog.FRIENDS, owner, [(other, versionlog.DELETE)])
        notify_user(send_id=owner, recv_id=other, content_type=FriendNote.FRIEND_DELETED,
                    content={"from_user_id": owner, "to_user_id": other})
    audit_record(
        actor=actor.user_id, action="friend.remove", target_type="user", target_id=user_id,
        details={"friend_user_id": friend_id, "reason": reason}, ip=ip,
    )


@transaction.atomic
def friend_update(*, owner: User, friend_id: str, data: dict[str, Any]) -> Friend:
    """Set remark, pin and ``ex`` of one friend; the owner's devices hear of it (1206 / 1210)."""
    row = Friend.objects.select_for_update().filter(owner_id=owner.user_id, friend_id=friend_id).first()
    if row is None:
        raise DomainError(Code.NOT_FRIENDS, f"{friend_id} is not in your friend list")
    changed = [k for k in ("remark", "is_pinned", "ex") if k in data and getattr(row, k) != data[k]]
    if changed:
        for key in changed:
            setattr(row, key, data[key])
        row.save(update_fields=changed)
        versionlog.record(versionlog.FRIENDS, owner.user_id, [(friend_id, versionlog.UPDATE)])
        content: dict[str, Any] = {"from_user_id": owner.user_id, "to_user_id": friend_id}
        content.update({k: getattr(row, k) for k in changed})
        note = FriendNote.REMARK_SET if changed == ["remark"] else FriendNote.FRIENDS_INFO_UPDATE
        notify_user(send_id=owner.user_id, recv_id=owner.user_id, content_type=note, content=content)
    return Friend.objects.select_related("friend").get(pk=row.pk)


@transaction.atomic
def friends_import(*, owner_id: str, friend_ids: list[str], actor: User, ip: str | None = None) -> list[str]:
    """App admin: make ``owner_id`` friends with each of ``friend_ids`` without approval."""
    _user(owner_id)
    ids = list(dict.fromkeys(friend_ids))
    if not ids:
        raise DomainError(Code.BAD_ARGS, "friend_user_ids: must not be empty")
    if owner_id in ids:
        raise DomainError(Code.CANNOT_ADD_SELF, "a user cannot be imported as their own friend")
    found = set(User.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
    missing = [u for u in ids if u not in found]
    if missing:
        raise DomainError(Code.USER_NOT_FOUND, f"users not found: {', '.join(missing[:20])}", data={"user_ids": missing})
    added = []
    for fid in ids:
        if _make_friends(owner_id, fid, source=AddSource.IMPORT, operator=actor.user_id):
            added.append(fid)
            notify_user(send_id=owner_id, recv_id=fid, content_type=FriendNote.FRIEND_ADDED,
                        content={"from_user_id": owner_id, "to_user_id": fid, "add_source": AddSource.IMPORT})
    audit_record(
        actor=actor.user_id, action="friend.import", target_type="user", target_id=owner_id,
        details={"friend_user_ids": ids, "added": added}, ip=ip,
    )
    return added


# ------------------------------------------------------------ blacklist
@transaction.atomic
def black_add(*, owner: User, user_id: str) -> Black:
    """Block ``user_id``: their 1:1 messages and friend requests to the owner fail with 1302."""
    if user_id == owner.user_id:
        raise DomainError(Code.CANNOT_ADD_SELF, "you cannot block yourself")
    _user(user_id)
    if Black.objects.filter(owner_id=owner.user_id, blocked_id=user_id).exists():
        raise DomainError(Code.DUPLICATE, f"{user_id} is already in your blacklist")
    try:
        with transaction.atomic():
            row = Black.objects.create(owner_id=owner.user_id, blocked_id=user_id, operator_user_id=owner.user_id,
                                       created_at=timezone.now())
    except IntegrityError as exc:
        raise DomainError(Code.DUPLICATE, f"{user_id} is already in your blacklist") from exc
    invalidate([selectors.blocked_key(owner.user_id, user_id)])
    notify_user(send_id=owner.user_id, recv_id=owner.user_id, content_type=FriendNote.BLACK_ADDED,
                content={"owner_user_id": owner.user_id, "block_user_id": user_id})
    return Black.objects.select_related("blocked").get(pk=row.pk)


@transaction.atomic
def black_remove(*, owner: User, user_id: str, operator: OperatorAction | None = None) -> None:
    """``owner`` unblocks ``user_id`` (``operator``: an operator does it for them, audited)."""
    deleted, _ = Black.objects.filter(owner_id=owner.user_id, blocked_id=user_id).delete()
    if not deleted:
        raise DomainError(Code.NOT_FOUND, f"{user_id} is not in your blacklist")
    invalidate([selectors.blocked_key(owner.user_id, user_id)])
    notify_user(send_id=owner.user_id, recv_id=owner.user_id, content_type=FriendNote.BLACK_REMOVED,
                content={"owner_user_id": owner.user_id, "block_user_id": user_id})
    if operator is not None:
        operator.record(action="black.remove", target_type="user", target_id=owner.user_id,
                        details={"block_user_id": user_id})


# ------------------------------------------------------------ profile changes
FRIEND_INFO_FIELDS = ("nickname", "face_url")
# the profile fields a friend row shows (a change bumps the friend lists the user is in)
FRIEND_ROW_PROFILE_FIELDS = ("nickname", "face_url", "ex")


def friend_info_changed(*, user: User, fields: list[str]) -> list[str]:
    """Tell the user's friends that their nickname or face changed (1209, push only: not stored).

    Bumps (``update``) the friend lists the user is in when a field their rows show changed
    (nickname, face, ex), in the profile change's transaction.

    Called when :func:`apps.accounts.services.user_update` sends ``user_profile_changed``. Every online device of every user
    who has ``user`` in their friend list gets ``push.notification`` after commit; offline
    friends see the new profile when they next load their friend list. One query; returns
    the friends told.
    """
    if not any(f in fields for f in FRIEND_ROW_PROFILE_FIELDS):
        return []
    owners = cast(list[str], list(Friend.objects.filter(friend_id=user.user_id).values_list("owner_id", flat=True)))
    if not owners:
        return []
    # the friend rows show the profile: an update in every friend list the user is in
    versionlog.record_many(versionlog.FRIENDS, owners, user.user_id, versionlog.UPDATE)
    changed = [f for f in FRIEND_INFO_FIELDS if f in fields]
    if not changed:
        return []
    data = {
        "content_type": int(FriendNote.FRIEND_INFO_UPDATED),
        "send_time": int(timezone.now().timestamp() * 1000),
        "content": {
            "user_id": user.user_id,
            "nickname": user.nickname,
            "face_url": user.face_url,
            "changed": changed,
        },
    }

    on_commit(lambda: push_to_users(owners, "push.notification", data))
    return owners
