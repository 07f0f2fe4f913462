"""Writes for groups: one transaction each, rules enforced here, tips stored as messages.

Every change stores its notification (content types 1501–1520) as a tip in the
group conversation ``sg_<group_id>`` inside the same transaction. A member who
leaves (kicked or quitting) is still a member when the tip is stored, and also
gets a personal copy (session_type 1 from the operator) so every device of
theirs learns of it even though the group no longer pushes to them.
The group row is locked (``SELECT … FOR UPDATE``) by every write, so member
counts, roles and mutes change one write at a time per group.

Joining and leaving also set the member's own state of the group conversation
(:mod:`apps.messaging.services`): a new member starts read at the group's current
seq (and reads the whole history); a member who leaves keeps read access up to the
seq of their leave tip and nothing after. Dismissal keeps the members, so they keep
reading everything (nothing can be sent after it).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.common import versionlog
from apps.common.cachekeys import invalidate
from apps.common.errors import Code, DomainError
from apps.groups import selectors
from apps.groups.models import (
    Group,
    GroupMember,
    GroupRequest,
    GroupStatus,
    HandleResult,
    JoinSource,
    Role,
    Verification,
    group_id_validator,
)
from apps.messaging import services as messaging
from apps.messaging.notifications import GroupNote, notify_group, notify_user

INFO_FIELDS = (
    "name",
    "notification",
    "introduction",
    "face_url",
    "ex",
    "need_verification",
    "look_member_info",
    "apply_member_friend",
)


# ---------------------------------------------------------------- helpers
is_app_admin = selectors.is_app_admin


def _ms(value: datetime | None) -> int:
    return int(value.timestamp() * 1000) if value else 0


def _group_tip(group: Group) -> dict[str, Any]:
    return {
        "group_id": group.group_id,
        "name": group.name,
        "owner_user_id": group.owner_user_id,
        "status": group.status,
        "need_verification": group.need_verification,
        "face_url": group.face_url,
    }


def _tip(group: Group, actor_id: str, **extra: Any) -> dict[str, Any]:
    return {"group": _group_tip(group), "op_user_id": actor_id, **extra}


def _lock(group_id: str) -> Group:
    group = Group.objects.select_for_update().filter(group_id=group_id).first()
    if group is None:
        raise DomainError(Code.GROUP_NOT_FOUND, f"group {group_id} not found")
    return group


def _not_dismissed(group: Group) -> None:
    if group.status == GroupStatus.DISMISSED:
        raise DomainError(Code.GROUP_DISMISSED, f"group {group.group_id} is dismissed")


def _member(group: Group, user_id: str) -> GroupMember | None:
    return GroupMember.objects.filter(group=group, user_id=user_id).first()


def _actor_role(group: Group, actor: User) -> int | None:
    """The actor's role; an app admin acts with the owner's rights."""
    if is_app_admin(actor):
        return Role.OWNER
    return GroupMember.objects.filter(group=group, user_id=actor.user_id).values_list("role_level", flat=True).first()


def _need_role(group: Group, actor: User, minimum: int, what: str) -> int:
    role = _actor_role(group, actor)
    if role is None:
        raise DomainError(Code.NOT_IN_GROUP, f"you are not a member of group {group.group_id}")
    if role < minimum:
        raise DomainError(Code.NO_PERMISSION, f"only the {'owner' if minimum == Role.OWNER else 'owner or admins'} can {what}")
    return role


def _users_exist(user_ids: Iterable[str]) -> None:
    ids = list(dict.fromkeys(user_ids))
    found = set(User.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
    missing = [u for u in ids if u not in found]
    if missing:
        raise DomainError(Code.USER_NOT_FOUND, f"users not found: {', '.join(missing[:20])}", data={"user_ids": missing})


def _check_capacity(group: Group, adding: int) -> None:
    cap = settings.IM_GROUP_MAX_MEMBERS
    if adding and GroupMember.objects.filter(group=group).count() + adding > cap:
        raise DomainError(Code.GROUP_FULL, f"a group holds at most {cap} members")


def _membership_changed(group_id: str, user_ids: Iterable[str]) -> None:
    ids = list(user_ids)
    invalidate(
        [
            selectors.member_ids_key(group_id),
            *(selectors.member_key(group_id, u) for u in ids),
            *(selectors.user_groups_key(u) for u in ids),
        ]
    )


def _member_changed(group_id: str, user_ids: Iterable[str]) -> None:
    invalidate([selectors.member_key(group_id, u) for u in user_ids])


def _status_changed(group_id: str) -> None:
    invalidate([selectors.status_key(group_id)])


# ------------------------------------------------------------ version log (incremental sync)
def _log_membership(group_id: str, user_ids: list[str], op: int) -> None:
    """Members joined (``INSERT``) or left (``DELETE``): the group's member list and each one's joined groups."""
    if user_ids:
        versionlog.record(versionlog.MEMBERS, group_id, [(u, op) for u in user_ids])
        versionlog.record_many(versionlog.GROUPS, user_ids, group_id, op)


def _log_member_update(group_id: str, user_ids: list[str], *, joined_groups: bool) -> None:
    """Member rows changed (role, mute, in-group nickname); ``joined_groups``: the members' own
    joined-groups rows show the change too (role and mute do)."""
    versionlog.record(versionlog.MEMBERS, group_id, [(u, versionlog.UPDATE) for u in user_ids])
    if joined_groups:
        versionlog.record_many(versionlog.GROUPS, user_ids, group_id, versionlog.UPDATE)


def _log_group_update(group: Group) -> None:
    """The group's own info changed: an update in every member's joined-groups list."""
    members = cast(list[str], list(GroupMember.objects.filter(group=group).values_list("user_id", flat=True)))
    versionlog.record_many(versionlog.GROUPS, members, group.group_id, versionlog.UPDATE)


def member_profile_changed(*, user: User, fields: list[str]) -> list[str]:
    """A user's profile shown in member rows (nickname, face, ex) changed: an update in the
    member list of each of their groups (in the profile change's transaction); returns the groups."""
    if not any(f in fields for f in ("nickname", "face_url", "ex")):
        return []
    group_ids = cast(list[str], list(GroupMember.objects.filter(user_id=user.user_id).values_list("group_id", flat=True)))
    versionlog.record_many(versionlog.MEMBERS, group_ids, user.user_id, versionlog.UPDATE)
    return group_ids


def _add_members(
    group: Group, user_ids: list[str], *, role: int, source: int, inviter: str, operator: str, now: datetime
) -> None:
    GroupMember.objects.bulk_create(
        [
            GroupMember(
                group=group,
                user_id=uid,
                role_level=role,
                join_source=source,
                inviter_user_id=inviter,
                operator_user_id=operator,
                joined_at=now,
            )
            for uid in user_ids
        ]
    )
    _membership_changed(group.group_id, user_ids)
    _log_membership(group.group_id, user_ids, versionlog.INSERT)


def _audit_admin(actor: User, group: Group, action: str, ip: str | None, **details: Any) -> None:
    """Audit the actions an app admin or operator takes on a group they do not own."""
    if is_app_admin(actor) and actor.user_id != group.owner_user_id:
        audit_record(
            actor=actor.user_id, action=action, target_type="group", target_id=group.group_id, details=details, ip=ip
        )


def new_group_id() -> str:
    return secrets.token_hex(8)


# ----------------------------------------------------------------- create
@transaction.atomic
def group_create(
    *,
    owner: User,
    name: str,
    member_ids: list[str],
    admin_ids: list[str],
    group_id: str | None = None,
    notification: str = "",
    introduction: str = "",
    face_url: str = "",
    ex: dict[str, Any] | None = None,
    need_verification: int = Verification.APPLY_NEEDS_APPROVAL,
    look_member_info: int = 0,
    apply_member_friend: int = 0,
    actor: User | None = None,
    ip: str | None = None,
) -> Group:
    """Create a group owned by ``owner`` with ``admin_ids`` (role 60) and ``member_ids`` (role 20)."""
    actor = actor or owner
    name = (name or "").strip()
    if not name:
        raise DomainError(Code.BAD_ARGS, "name: must not be empty")
    if group_id is not None:
        try:
            group_id_validator(group_id)
        except Exception as exc:
            raise DomainError(Code.BAD_ARGS, "group_id: 1-64 characters of A-Z a-z 0-9 _ -") from exc
        if Group.objects.filter(group_id=group_id).exists():
            raise DomainError(Code.DUPLICATE, f"group {group_id} already exists")
    admins = [u for u in dict.fromkeys(admin_ids) if u != owner.user_id]
    members = [u for u in dict.fromkeys(member_ids) if u != owner.user_id and u not in admins]
    _users_exist([*admins, *members])
    cap = settings.IM_GROUP_MAX_MEMBERS
    if 1 + len(admins) + len(members) > cap:
        raise DomainError(Code.GROUP_FULL, f"a group holds at most {cap} members")
    now = timezone.now()
    group = Group(
        group_id=group_id or new_group_id(),
        name=name,
        notification=notification,
        introduction=introduction,
        face_url=face_url,
        ex=ex or {},
        owner_user_id=owner.user_id,
        creator_user_id=actor.user_id,
        need_verification=need_verification,
        look_member_info=look_member_info,
        apply_member_friend=apply_member_friend,
        notification_updated_at=now if notification else None,
        notification_user_id=actor.user_id if notification else "",
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            group.save(force_insert=True)
    except IntegrityError as exc:
        raise DomainError(Code.DUPLICATE, f"group {group.group_id} already exists") from exc
    source = JoinSource.ADMIN if is_app_admin(actor) else JoinSource.INVITATION
    op = actor.user_id
    _add_members(group, [owner.user_id], role=Role.OWNER, source=source, inviter="", operator=op, now=now)
    _add_members(group, admins, role=Role.ADMIN, source=source, inviter=owner.user_id, operator=op, now=now)
    _add_members(group, members, role=Role.MEMBER, source=source, inviter=owner.user_id, operator=op, now=now)
    _status_changed(group.group_id)
    if actor.user_id != owner.user_id:
        _audit_admin(actor, group, "group.create", ip, owner_user_id=owner.user_id, members=len(members) + len(admins))
    notify_group(
        send_id=op,
        group_id=group.group_id,
        content_type=GroupNote.CREATED,
        content=_tip(group, op, member_user_ids=[owner.user_id, *admins, *members], admin_user_ids=admins),
    )
    if notification:
        notify_group(
            send_id=op, group_id=group.group_id, content_type=GroupNote.NOTICE_SET,
            content=_tip(group, op, notification=notification),
        )
    messaging.conversation_members_init(group_id=group.group_id, user_ids=[owner.user_id, *admins, *members])
    group.member_count = 1 + len(admins) + len(members)  # type: ignore[attr-defined]
    return group


# ------------------------------------------------------------------- info
@transaction.atomic
def group_update(*, group_id: str, actor: User, data: dict[str, Any], ip: str | None = None) -> Group:
    """Update name, notice, intro, face, ex and join settings (owner or admins)."""
    group = _lock(group_id)
    _not_dismissed(group)
    _need_role(group, actor, Role.ADMIN, "change the group info")
    if "name" in data:
        data = {**data, "name": (data["name"] or "").strip()}
        if not data["name"]:
            raise DomainError(Code.BAD_ARGS, "name: must not be empty")
    changed = [k for k in INFO_FIELDS if k in data and getattr(group, k) != data[k]]
    if not changed:
        return group
    now = timezone.now()
    for key in changed:
        setattr(group, key, data[key])
    group.updated_at = now
    fields = [*changed, "updated_at"]
    if "notification" in changed:
        group.notification_updated_at = now
        group.notification_user_id = actor.user_id
        fields += ["notification_updated_at", "notification_user_id"]
    group.save(update_fields=fields)
    _log_group_update(group)
    _audit_admin(actor, group, "group.update", ip, fields=changed)
    op = actor.user_id
    if "name" in changed:
        notify_group(send_id=op, group_id=group_id, content_type=GroupNote.NAME_SET, content=_tip(group, op))
    if "notification" in changed:
        notify_group(
            send_id=op, group_id=group_id, content_type=GroupNote.NOTICE_SET,
            content=_tip(group, op, notification=group.notification),
        )
    others = [k for k in changed if k not in ("name", "notification")]
    if others:
        notify_group(
            send_id=op, group_id=group_id, content_type=GroupNote.INFO_SET,
            content=_tip(group, op, changed=others, **{k: getattr(group, k) for k in others}),
        )
    return group


# ------------------------------------------------------------ join & invite
def _enter(group: Group, user_id: str, *, source: int, inviter: str, operator: str) -> None:
    _check_capacity(group, 1)
    _add_members(group, [user_id], role=Role.MEMBER, source=source, inviter=inviter, operator=operator, now=timezone.now())
    notify_group(
        send_id=user_id, group_id=group.group_id, content_type=GroupNote.MEMBER_ENTER,
        content=_tip(group, operator, entrant_user_id=user_id, inviter_user_id=inviter),
    )
    messaging.conversation_members_init(group_id=group.group_id, user_ids=[user_id])


def _managers(group: Group) -> list[str]:
    return cast(list[str], list(  # a to_field foreign key: user ids (str), not pks
        GroupMember.objects.filter(group=group, role_level__gte=Role.ADMIN)
        .order_by("-role_level", "id")
        .values_list("user_id", flat=True)[:50]
    ))


def _open_request(
    group: Group, user_id: str, *, message: str, source: int, inviter: str
) -> GroupRequest:
    now = timezone.now()
    req, created = GroupRequest.objects.get_or_create(
        group=group,
        user_id=user_id,
        defaults={"message": message, "join_source": source, "inviter_user_id": inviter, "created_at": now},
    )
    if not created:
        req.message, req.join_source, req.inviter_user_id = message, source, inviter
        req.handle_result, req.handle_msg, req.handler_user_id = HandleResult.PENDING, "", ""
        req.created_at, req.handled_at = now, None
        req.save()
    content = _tip(group, inviter or user_id, applicant_user_id=user_id, request_id=req.pk, message=message,
                   inviter_user_id=inviter)
    for manager in _managers(group):
        notify_user(send_id=user_id, recv_id=manager, content_type=GroupNote.JOIN_REQUEST, content=content)
    return req


@transaction.atomic
def group_join(
    *, group_id: str, user: User, message: str = "", join_source: int = JoinSource.SEARCH
) -> dict[str, Any]:
    """Ask to join: verification 2 joins at once, otherwise a pending request for the owner/admins."""
    group = _lock(group_id)
    _not_dismissed(group)
    if _member(group, user.user_id) is not None:
        raise DomainError(Code.GROUP_ALREADY_MEMBER, f"you are already a member of group {group_id}")
    if group.need_verification == Verification.DIRECT:
        _enter(group, user.user_id, source=join_source, inviter="", operator=user.user_id)
        return {"joined": True, "request": None}
    req = _open_request(group, user.user_id, message=message, source=join_source, inviter="")
    return {"joined": False, "request": req}


@transaction.atomic
def group_invite(*, group_id: str, actor: User, user_ids: list[str], message: str = "", ip: str | None = None) -> dict[str, Any]:
    """Invite users. Members of verification-1 groups create join requests instead."""
    group = _lock(group_id)
    _not_dismissed(group)
    role = _need_role(group, actor, Role.MEMBER, "invite")
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        raise DomainError(Code.BAD_ARGS, "user_ids: must not be empty")
    _users_exist(ids)
    already = sorted(cast(list[str], list(  # a to_field foreign key: user ids (str), not pks
        GroupMember.objects.filter(group=group, user_id__in=ids).values_list("user_id", flat=True)
    )))
    if already:
        raise DomainError(
            Code.GROUP_ALREADY_MEMBER, f"already members: {', '.join(already[:20])}", data={"user_ids": already}
        )
    needs_approval = group.need_verification == Verification.ALL_NEED_APPROVAL and role < Role.ADMIN
    if needs_approval:
        reqs = [
            _open_request(group, uid, message=message, source=JoinSource.INVITATION, inviter=actor.user_id)
            for uid in ids
        ]
        return {"joined": [], "requests": reqs}
    _check_capacity(group, len(ids))
    source = JoinSource.ADMIN if is_app_admin(actor) and role == Role.OWNER and _member(group, actor.user_id) is None \
        else JoinSource.INVITATION
    _add_members(group, ids, role=Role.MEMBER, source=source, inviter=actor.user_id, operator=actor.user_id,
                 now=timezone.now())
    _audit_admin(actor, group, "group.invite", ip, user_ids=ids)
    notify_group(
        send_id=actor.user_id, group_id=group_id, content_type=GroupNote.MEMBER_INVITED,
        content=_tip(group, actor.user_id, invited_user_ids=ids),
    )
    messaging.conversation_members_init(group_id=group_id, user_ids=ids)
    return {"joined": ids, "requests": []}


def _handle_request(
    *, request_id: int, actor: User, accept: bool, handle_msg: str, ip: str | None
) -> GroupRequest:
    req = GroupRequest.objects.filter(pk=request_id).first()
    if req is None:
        raise DomainError(Code.NOT_FOUND, f"join request {request_id} not found")
    group = _lock(req.group_id)
    req = GroupRequest.objects.select_for_update().get(pk=request_id)
    if _actor_role(group, actor) not in (Role.OWNER, Role.ADMIN):
        # a non-manager may not even learn that the request exists
        raise DomainError(Code.NO_PERMISSION, "only the owner or admins handle join requests")
    if req.handle_result != HandleResult.PENDING:
        raise DomainError(Code.GROUP_REQUEST_HANDLED, f"join request {request_id} was already handled")
    _not_dismissed(group)
    now = timezone.now()
    req.handle_result = HandleResult.ACCEPTED if accept else HandleResult.REFUSED
    req.handle_msg, req.handler_user_id, req.handled_at = handle_msg, actor.user_id, now
    req.save(update_fields=["handle_result", "handle_msg", "handler_user_id", "handled_at"])
    content = _tip(group, actor.user_id, applicant_user_id=req.user_id, request_id=req.pk, handle_msg=handle_msg)
    if accept:
        if _member(group, req.user_id) is None:
            _enter(group, req.user_id, source=req.join_source, inviter=req.inviter_user_id, operator=actor.user_id)
        notify_user(send_id=actor.user_id, recv_id=req.user_id, content_type=GroupNote.REQUEST_ACCEPTED, content=content)
    else:
        notify_user(send_id=actor.user_id, recv_id=req.user_id, content_type=GroupNote.REQUEST_REFUSED, content=content)
    _audit_admin(actor, group, "group_request.accept" if accept else "group_request.refuse", ip,
                 request_id=req.pk, user_id=req.user_id, reason=handle_msg)
    return req


@transaction.atomic
def group_request_accept(
    *, request_id: int, actor: User, handle_msg: str = "", ip: str | None = None
) -> GroupRequest:
    """Let the applicant in (owner, admins, or an app admin — who is audited)."""
    return _handle_request(request_id=request_id, actor=actor, accept=True, handle_msg=handle_msg, ip=ip)


@transaction.atomic
def group_request_refuse(
    *, request_id: int, actor: User, handle_msg: str = "", ip: str | None = None
) -> GroupRequest:
    return _handle_request(request_id=request_id, actor=actor, accept=False, handle_msg=handle_msg, ip=ip)


# ------------------------------------------------------------ leave
def _leave_tip(group: Group, op: str, content_type: int, user_ids: list[str], content: dict[str, Any]) -> None:
    """Store the tip while the leavers are still members, plus a personal copy for each leaver."""
    notify_group(send_id=op, group_id=group.group_id, content_type=content_type, content=content)
    for uid in user_ids:
        notify_user(send_id=op, recv_id=uid, content_type=content_type, content=content)


@transaction.atomic
def group_kick(*, group_id: str, actor: User, user_ids: list[str], reason: str = "", ip: str | None = None) -> list[str]:
    """Remove members. Nobody kicks the owner; admins kick only members; members kick nobody."""
    group = _lock(group_id)
    _not_dismissed(group)
    role = _need_role(group, actor, Role.ADMIN, "kick members")
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        raise DomainError(Code.BAD_ARGS, "user_ids: must not be empty")
    if actor.user_id in ids:
        raise DomainError(Code.BAD_ARGS, "you cannot kick yourself; quit the group instead")
    rows = dict(GroupMember.objects.filter(group=group, user_id__in=ids).values_list("user_id", "role_level"))
    missing = [u for u in ids if u not in rows]
    if missing:
        raise DomainError(Code.NOT_IN_GROUP, f"not members: {', '.join(missing[:20])}", data={"user_ids": missing})
    if any(r == Role.OWNER for r in rows.values()):
        raise DomainError(Code.NO_PERMISSION, "nobody can kick the group owner")
    if role == Role.ADMIN and any(r == Role.ADMIN for r in rows.values()):
        raise DomainError(Code.NO_PERMISSION, "admins cannot kick other admins")
    _leave_tip(group, actor.user_id, GroupNote.MEMBER_KICKED, ids,
               _tip(group, actor.user_id, kicked_user_ids=ids, reason=reason))
    GroupMember.objects.filter(group=group, user_id__in=ids).delete()
    _membership_changed(group_id, ids)
    _log_membership(group_id, ids, versionlog.DELETE)
    messaging.conversation_members_leave(group_id=group_id, user_ids=ids)
    _audit_admin(actor, group, "group.kick", ip, user_ids=ids, reason=reason)
    return ids


@transaction.atomic
def group_quit(*, group_id: str, user: User) -> None:
    """Leave a group. The owner must transfer ownership first."""
    group = _lock(group_id)
    member = _member(group, user.user_id)
    if member is None:
        raise DomainError(Code.NOT_IN_GROUP, f"you are not a member of group {group_id}")
    if member.role_level == Role.OWNER and group.status != GroupStatus.DISMISSED:
        raise DomainError(Code.NO_PERMISSION, "the owner cannot quit; transfer the ownership first")
    if group.status != GroupStatus.DISMISSED:
        _leave_tip(group, user.user_id, GroupNote.MEMBER_QUIT, [user.user_id],
                   _tip(group, user.user_id, quit_user_id=user.user_id))
    member.delete()
    _membership_changed(group_id, [user.user_id])
    _log_membership(group_id, [user.user_id], versionlog.DELETE)
    messaging.conversation_members_leave(group_id=group_id, user_ids=[user.user_id])


# ------------------------------------------------------------ roles
@transaction.atomic
def group_transfer(
    *, group_id: str, actor: User, new_owner_id: str, ip: str | None = None, reason: str = ""
) -> Group:
    """Hand the group to another member; the old owner becomes an ordinary member."""
    group = _lock(group_id)
    _not_dismissed(group)
    _need_role(group, actor, Role.OWNER, "transfer the ownership")
    if new_owner_id == group.owner_user_id:
        raise DomainError(Code.BAD_ARGS, "new_owner_user_id: already the owner")
    target = _member(group, new_owner_id)
    if target is None:
        raise DomainError(Code.NOT_IN_GROUP, f"{new_owner_id} is not a member of group {group_id}")
    old_owner = group.owner_user_id
    GroupMember.objects.filter(group=group, user_id=old_owner).update(role_level=Role.MEMBER)
    target.role_level, target.mute_end_time = Role.OWNER, None
    target.save(update_fields=["role_level", "mute_end_time"])
    group.owner_user_id, group.updated_at = new_owner_id, timezone.now()
    group.save(update_fields=["owner_user_id", "updated_at"])
    _member_changed(group_id, [old_owner, new_owner_id])
    _log_member_update(group_id, [old_owner, new_owner_id], joined_groups=False)
    _log_group_update(group)  # the owner shown in every member's row; the two roles with it
    if actor.user_id != old_owner:
        _audit_admin(
            actor, group, "group.transfer", ip, old_owner_user_id=old_owner, new_owner_user_id=new_owner_id,
            reason=reason,
        )
    notify_group(
        send_id=actor.user_id, group_id=group_id, content_type=GroupNote.OWNER_TRANSFERRED,
        content=_tip(group, actor.user_id, old_owner_user_id=old_owner, new_owner_user_id=new_owner_id),
    )
    return group


@transaction.atomic
def group_member_set_role(*, group_id: str, actor: User, user_id: str, role_level: int, ip: str | None = None) -> GroupMember:
    """Make a member an admin (60) or an admin an ordinary member (20). Owner only."""
    if role_level not in (Role.ADMIN, Role.MEMBER):
        raise DomainError(Code.BAD_ARGS, "role_level: must be 60 (admin) or 20 (member)")
    group = _lock(group_id)
    _not_dismissed(group)
    _need_role(group, actor, Role.OWNER, "set or unset admins")
    target = _member(group, user_id)
    if target is None:
        raise DomainError(Code.NOT_IN_GROUP, f"{user_id} is not a member of group {group_id}")
    if target.role_level == Role.OWNER:
        raise DomainError(Code.NO_PERMISSION, "the owner's role changes only by transferring the ownership")
    if target.role_level == role_level:
        return target
    target.role_level, target.operator_user_id = role_level, actor.user_id
    target.save(update_fields=["role_level", "operator_user_id"])
    _member_changed(group_id, [user_id])
    _log_member_update(group_id, [user_id], joined_groups=True)
    _audit_admin(actor, group, "group.set_role", ip, user_id=user_id, role_level=role_level)
    notify_group(
        send_id=actor.user_id, group_id=group_id,
        content_type=GroupNote.SET_TO_ADMIN if role_level == Role.ADMIN else GroupNote.SET_TO_MEMBER,
        content=_tip(group, actor.user_id, user_id=user_id, role_level=role_level),
    )
    return target


@transaction.atomic
def group_member_update(
    *, group_id: str, actor: User, user_id: str, data: dict[str, Any], ip: str | None = None
) -> GroupMember:
    """Set a member's in-group nickname, face and ex: yourself, or a member below you (owner/admins)."""
    group = _lock(group_id)
    _not_dismissed(group)
    target = _member(group, user_id)
    if actor.user_id != user_id:
        role = _need_role(group, actor, Role.ADMIN, "change other members' info")
        if target is not None and target.role_level >= role and role != Role.OWNER:
            raise DomainError(Code.NO_PERMISSION, "admins change the info of ordinary members only")
    if target is None:
        raise DomainError(Code.NOT_IN_GROUP, f"{user_id} is not a member of group {group_id}")
    changed = [k for k in ("nickname", "face_url", "ex") if k in data and getattr(target, k) != data[k]]
    if changed:
        for key in changed:
            setattr(target, key, data[key])
        target.save(update_fields=changed)
        _log_member_update(group_id, [user_id], joined_groups=False)
        _audit_admin(actor, group, "group.member_update", ip, user_id=user_id, fields=changed)
        notify_group(
            send_id=actor.user_id, group_id=group_id, content_type=GroupNote.MEMBER_INFO_SET,
            content=_tip(group, actor.user_id, user_id=user_id, **{k: getattr(target, k) for k in changed}),
        )
    return target


# ------------------------------------------------------------ mutes
def _mute_target(group: Group, actor: User, user_id: str) -> GroupMember:
    role = _need_role(group, actor, Role.ADMIN, "mute members")
    target = _member(group, user_id)
    if target is None:
        raise DomainError(Code.NOT_IN_GROUP, f"{user_id} is not a member of group {group.group_id}")
    if target.role_level == Role.OWNER:
        raise DomainError(Code.NO_PERMISSION, "the owner cannot be muted")
    if target.role_level == Role.ADMIN and role != Role.OWNER:
        raise DomainError(Code.NO_PERMISSION, "only the owner can mute admins")
    return target


@transaction.atomic
def group_member_mute(
    *, group_id: str, actor: User, user_id: str, seconds: int, ip: str | None = None, reason: str = ""
) -> GroupMember:
    """Mute a member for ``seconds``."""
    if seconds <= 0 or seconds > 10 * 365 * 24 * 3600:
        raise DomainError(Code.BAD_ARGS, "seconds: must be between 1 and 315360000")
    group = _lock(group_id)
    _not_dismissed(group)
    target = _mute_target(group, actor, user_id)
    target.mute_end_time = timezone.now() + timedelta(seconds=seconds)
    target.operator_user_id = actor.user_id
    target.save(update_fields=["mute_end_time", "operator_user_id"])
    _member_changed(group_id, [user_id])
    _log_member_update(group_id, [user_id], joined_groups=True)
    _audit_admin(actor, group, "group.mute_member", ip, user_id=user_id, seconds=seconds, reason=reason)
    notify_group(
        send_id=actor.user_id, group_id=group_id, content_type=GroupNote.MEMBER_MUTED,
        content=_tip(group, actor.user_id, user_id=user_id, muted_seconds=seconds,
                     mute_end_time=_ms(target.mute_end_time)),
    )
    return target


@transaction.atomic
def group_member_unmute(
    *, group_id: str, actor: User, user_id: str, ip: str | None = None, reason: str = ""
) -> GroupMember:
    group = _lock(group_id)
    _not_dismissed(group)
    target = _mute_target(group, actor, user_id)
    target.mute_end_time = None
    target.operator_user_id = actor.user_id
    target.save(update_fields=["mute_end_time", "operator_user_id"])
    _member_changed(group_id, [user_id])
    _log_member_update(group_id, [user_id], joined_groups=True)
    _audit_admin(actor, group, "group.unmute_member", ip, user_id=user_id, reason=reason)
    notify_group(
        send_id=actor.user_id, group_id=group_id, content_type=GroupNote.MEMBER_UNMUTED,
        content=_tip(group, actor.user_id, user_id=user_id),
    )
    return target


@transaction.atomic
def group_mute(*, group_id: str, actor: User, muted: bool, ip: str | None = None, reason: str = "") -> Group:
    """Mute (or unmute) the whole group: only the owner and admins can send while muted."""
    group = _lock(group_id)
    _not_dismissed(group)
    _need_role(group, actor, Role.ADMIN, "mute the group")
    status = GroupStatus.MUTED if muted else GroupStatus.NORMAL
    if group.status != status:
        group.status, group.updated_at = status, timezone.now()
        group.save(update_fields=["status", "updated_at"])
        _status_changed(group_id)
        _log_group_update(group)
        _audit_admin(actor, group, "group.mute" if muted else "group.unmute", ip, reason=reason)
        notify_group(
            send_id=actor.user_id, group_id=group_id,
            content_type=GroupNote.GROUP_MUTED if muted else GroupNote.GROUP_UNMUTED,
            content=_tip(group, actor.user_id),
        )
    return group


# ------------------------------------------------------------ dismiss
@transaction.atomic
def group_dismiss(*, group_id: str, actor: User, ip: str | None = None, reason: str = "") -> Group:
    """Dismiss the group (owner or app admin). Members stay listed so history stays readable."""
    group = _lock(group_id)
    _not_dismissed(group)
    if not (is_app_admin(actor) or actor.user_id == group.owner_user_id):
        raise DomainError(Code.NO_PERMISSION, "only the owner or an app admin can dismiss the group")
    notify_group(
        send_id=actor.user_id, group_id=group_id, content_type=GroupNote.DISMISSED, content=_tip(group, actor.user_id)
    )
    now = timezone.now()
    group.status, group.dismissed_at, group.updated_at = GroupStatus.DISMISSED, now, now
    group.save(update_fields=["status", "dismissed_at", "updated_at"])
    _status_changed(group_id)
    _log_group_update(group)  # dismissed groups stay in the list, with their status
    _audit_admin(actor, group, "group.dismiss", ip, name=group.name, reason=reason)
    return group
