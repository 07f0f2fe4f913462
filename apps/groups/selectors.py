"""Reads for groups and members.

``group_send_check`` runs on every group message: one cache round trip
(``get_many`` of the group state and the sender's membership), and on a miss
at most one query for each. Mutes are cached as end timestamps and compared
with the clock at check time, so they expire without an invalidation.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, QuerySet

from apps.accounts.models import User
from apps.common.cachekeys import make_key
from apps.common.errors import Code, DomainError
from apps.common.rows import RawRows, column, table
from apps.common.search import keyword_filter
from apps.groups.models import Group, GroupMember, GroupRequest, GroupStatus, Role

_MISSING = -1  # cached "no such group"


def status_key(group_id: str) -> str:
    return make_key("grp:st", group_id)


def member_key(group_id: str, user_id: str) -> str:
    return make_key("grp:mb", group_id, user_id)


def member_ids_key(group_id: str) -> str:
    return make_key("grp:ids", group_id)


def user_groups_key(user_id: str) -> str:
    return make_key("grp:ug", user_id)


def _ttl() -> int:
    return settings.IM_RELATION_CACHE_SECONDS


def _load_status(group_id: str) -> int:
    row = Group.objects.filter(group_id=group_id).values_list("status", flat=True).first()
    value = _MISSING if row is None else int(row)
    cache.set(status_key(group_id), value, _ttl())
    return value


def _load_member(group_id: str, user_id: str) -> tuple[int, float]:
    """(role, mute end timestamp or 0); role 0 = not a member."""
    row = GroupMember.objects.filter(group_id=group_id, user_id=user_id).values_list("role_level", "mute_end_time").first()
    value = (0, 0.0) if row is None else (int(row[0]), row[1].timestamp() if row[1] else 0.0)
    cache.set(member_key(group_id, user_id), value, _ttl())
    return value


def group_send_check(*, group_id: str, user_id: str) -> int:
    """May ``user_id`` send to ``group_id`` now? Returns the sender's role (100/60/20).

    Raises 1201 group not found, 1204 dismissed, 1203 not a member, 1402 muted member,
    1403 whole group muted (owner and admins may still send).
    """
    skey, mkey = status_key(group_id), member_key(group_id, user_id)
    hits = cache.get_many([skey, mkey])
    status = hits.get(skey)
    if status is None:
        status = _load_status(group_id)
    if status == _MISSING:
        raise DomainError(Code.GROUP_NOT_FOUND, f"group {group_id} not found")
    if status == GroupStatus.DISMISSED:
        raise DomainError(Code.GROUP_DISMISSED, f"group {group_id} is dismissed")
    member = hits.get(mkey)
    if member is None:
        member = _load_member(group_id, user_id)
    role, mute_end = member
    if not role:
        raise DomainError(Code.NOT_IN_GROUP, f"you are not a member of group {group_id}")
    if mute_end and mute_end > time.time():
        raise DomainError(Code.MUTED, "you are muted in this group", data={"mute_end_time": int(mute_end * 1000)})
    if status == GroupStatus.MUTED and role == Role.MEMBER:
        raise DomainError(Code.GROUP_MUTED, "the group is muted; only the owner and admins can send")
    return role


def group_member_role(*, group_id: str, user_id: str) -> int | None:
    """The member's role (100/60/20), or None when not a member. Works for dismissed groups."""
    member = cache.get(member_key(group_id, user_id))
    if member is None:
        member = _load_member(group_id, user_id)
    return member[0] or None


def group_member_ids(*, group_id: str) -> list[str]:
    key = member_ids_key(group_id)
    ids = cache.get(key)
    if ids is None:
        ids = list(GroupMember.objects.filter(group_id=group_id).order_by("id").values_list("user_id", flat=True))
        cache.set(key, ids, _ttl())
    return list(ids)


def user_group_ids(*, user_id: str) -> list[str]:
    """Ids of the groups ``user_id`` is a member of (dismissed groups included: history stays readable)."""
    key = user_groups_key(user_id)
    ids = cache.get(key)
    if ids is None:
        ids = list(GroupMember.objects.filter(user_id=user_id).order_by("id").values_list("group_id", flat=True))
        cache.set(key, ids, _ttl())
    return list(ids)


# ------------------------------------------------------------------ API reads
def groups_with_counts() -> QuerySet[Group]:
    return Group.objects.annotate(member_count=Count("members"))


def groups_by_ids(*, group_ids: list[str]) -> list[Group]:
    found = {g.group_id: g for g in groups_with_counts().filter(group_id__in=group_ids)}
    return [found[g] for g in dict.fromkeys(group_ids) if g in found]


def group_get(*, group_id: str) -> Group:
    group = Group.objects.filter(group_id=group_id).first()
    if group is None:
        raise DomainError(Code.GROUP_NOT_FOUND, f"group {group_id} not found")
    return group


def group_members(*, group_id: str, role_level: int | None = None, keyword: str = "") -> QuerySet[GroupMember]:
    qs = GroupMember.objects.filter(group_id=group_id).select_related("user")
    if role_level is not None:
        qs = qs.filter(role_level=role_level)
    qs = keyword_filter(qs, keyword, "user__nickname", "nickname", "user__user_id")
    return qs.order_by("-role_level", "id")


# the columns of a member row with its profile, as :func:`group_member_rows` returns them
MEMBER_ROW_FIELDS = (
    "group_id", "user_id", "role_level", "nickname", "face_url", "ex", "join_source", "inviter_user_id",
    "operator_user_id", "mute_end_time", "joined_at", "user__nickname", "user__face_url", "user__ex", "user__created_at",
)


def _member_where(key: str, value: str, role_level: int | None, ids_field: str, ids: list[str] | None,
                  ) -> tuple[str, list[Any]]:
    """The WHERE clause and parameters of a statement on the member table ``m``: rows whose
    ``key`` is ``value``, of one role if given, narrowed to ``ids`` of ``ids_field`` if given."""
    where = f"m.{column(GroupMember, key)} = %s"
    params: list[Any] = [value]
    if role_level is not None:
        where += f" AND m.{column(GroupMember, 'role_level')} = %s"
        params.append(role_level)
    if ids is not None:
        wanted = ids or [""]  # no ids: no row
        where += f" AND m.{column(GroupMember, ids_field)} IN ({', '.join(['%s'] * len(wanted))})"
        params.extend(wanted)
    return where, params


def group_member_rows(
    *, group_id: str, role_level: int | None = None, keyword: str = "", user_ids: list[str] | None = None,
) -> RawRows:
    """:func:`group_members` as raw tuples of :data:`MEMBER_ROW_FIELDS` (JSON as text, datetimes
    naive UTC): one statement per page, no models, no query compilation unless a keyword is searched.
    ``user_ids`` narrows it to those members (an incremental sync renders what changed)."""
    if keyword:
        return RawRows.of(group_members(group_id=group_id, role_level=role_level, keyword=keyword), *MEMBER_ROW_FIELDS)
    own = ", ".join(
        f"m.{column(GroupMember, name.removesuffix('_id') if name in ('group_id', 'user_id') else name)}"
        for name in MEMBER_ROW_FIELDS[:11]
    )
    profile = ", ".join(f"u.{column(User, name.removeprefix('user__'))}" for name in MEMBER_ROW_FIELDS[11:])
    where, params = _member_where("group", group_id, role_level, "user", user_ids)
    sql = (
        f"SELECT {own}, {profile} FROM {table(GroupMember)} m "  # noqa: S608 - model names only
        f"JOIN {table(User)} u ON u.{column(User, 'user_id')} = m.{column(GroupMember, 'user')} "
        f"WHERE {where} ORDER BY m.{column(GroupMember, 'role_level')} DESC, m.{column(GroupMember, 'id')}"
    )
    return RawRows(sql, params, f"SELECT COUNT(*) FROM {table(GroupMember)} m WHERE {where}", params)  # noqa: S608


def is_app_admin(user: Any) -> bool:
    """App admins and operators act on every group with the owner's rights."""
    return user is not None and bool(user.is_app_admin or user.is_staff)


def group_for_viewer(*, group_id: str, viewer: Any, minimum: int = Role.MEMBER) -> Group:
    """The group, if ``viewer`` may read its members (any member) or its join requests (``minimum`` admin).

    1201 when there is no such group, 1203 when the viewer is not a member, 1002 when their role is
    below ``minimum``. App admins may read every group.
    """
    group = group_get(group_id=group_id)
    if is_app_admin(viewer):
        return group
    role = group_member_role(group_id=group_id, user_id=viewer.user_id)
    if role is None:
        raise DomainError(Code.NOT_IN_GROUP, f"you are not a member of group {group_id}")
    if role < minimum:
        raise DomainError(Code.NO_PERMISSION, "only the owner or admins may see this")
    return group


def member_get(*, group_id: str, user_id: str) -> GroupMember | None:
    return GroupMember.objects.filter(group_id=group_id, user_id=user_id).first()


def joined_groups(*, user_id: str, role_level: int | None = None) -> QuerySet[GroupMember]:
    """The user's memberships with the group and its member count (one query per page)."""
    qs = GroupMember.objects.filter(user_id=user_id).select_related("group")
    if role_level is not None:
        qs = qs.filter(role_level=role_level)
    return qs.annotate(group_member_count=Count("group__members")).order_by("-id")


# the columns of a joined-group row, as :func:`joined_group_rows` returns them ("member_count" counted)
JOINED_GROUP_GROUP_FIELDS = (
    "group_id", "name", "notification", "introduction", "face_url", "ex", "owner_user_id", "creator_user_id",
    "status", "need_verification", "look_member_info", "apply_member_friend", "member_count", "created_at",
    "updated_at", "notification_updated_at", "notification_user_id", "dismissed_at",
)
JOINED_GROUP_MEMBER_FIELDS = ("role_level", "joined_at", "mute_end_time")


def joined_group_rows(*, user_id: str, role_level: int | None = None, group_ids: list[str] | None = None) -> RawRows:
    """:func:`joined_groups` as raw tuples: :data:`JOINED_GROUP_GROUP_FIELDS` then
    :data:`JOINED_GROUP_MEMBER_FIELDS` (JSON as text, datetimes naive UTC); one statement per page.
    ``group_ids`` narrows it to those groups (an incremental sync renders what changed)."""
    group_col = column(GroupMember, "group")
    count_sql = f"(SELECT COUNT(*) FROM {table(GroupMember)} c WHERE c.{group_col} = g.{column(Group, 'group_id')})"  # noqa: S608
    group_cols = ", ".join(
        count_sql if name == "member_count" else f"g.{column(Group, name)}" for name in JOINED_GROUP_GROUP_FIELDS
    )
    member_cols = ", ".join(f"m.{column(GroupMember, name)}" for name in JOINED_GROUP_MEMBER_FIELDS)
    where, params = _member_where("user", user_id, role_level, "group", group_ids)
    sql = (
        f"SELECT {group_cols}, {member_cols} FROM {table(GroupMember)} m "  # noqa: S608 - model names only
        f"JOIN {table(Group)} g ON g.{column(Group, 'group_id')} = m.{group_col} "
        f"WHERE {where} ORDER BY m.{column(GroupMember, 'id')} DESC"
    )
    return RawRows(sql, params, f"SELECT COUNT(*) FROM {table(GroupMember)} m WHERE {where}", params)  # noqa: S608


def join_requests_for_group(*, group_id: str, handle_result: int | None = None) -> QuerySet[GroupRequest]:
    qs = GroupRequest.objects.filter(group_id=group_id).select_related("user", "group")
    if handle_result is not None:
        qs = qs.filter(handle_result=handle_result)
    return qs.order_by("-created_at", "-id")


def join_requests_to_handle(*, user_id: str, handle_result: int | None = None) -> QuerySet[GroupRequest]:
    """Requests to the groups where ``user_id`` is owner or admin."""
    managed = GroupMember.objects.filter(user_id=user_id, role_level__gte=Role.ADMIN).values("group_id")
    qs = GroupRequest.objects.filter(group_id__in=managed).select_related("user", "group")
    if handle_result is not None:
        qs = qs.filter(handle_result=handle_result)
    return qs.order_by("-created_at", "-id")


def join_requests_of_user(*, user_id: str, handle_result: int | None = None) -> QuerySet[GroupRequest]:
    qs = GroupRequest.objects.filter(user_id=user_id).select_related("user", "group")
    if handle_result is not None:
        qs = qs.filter(handle_result=handle_result)
    return qs.order_by("-created_at", "-id")


def groups_search(*, keyword: str = "") -> QuerySet[Group]:
    qs = groups_with_counts()
    qs = keyword_filter(qs, keyword, "group_id", "name")
    return qs.order_by("-created_at", "group_id")
