"""Reads for friends, friend requests and the blacklist.

``is_blocked`` and ``are_friends`` answer one pair: one cache read, and on a miss
one indexed query whose answer is cached (invalidated by every service that
changes the pair). ``blocked_pairs`` and ``friend_pairs`` answer a set of pairs
(the message send path, per batch) from the same cache entries: one ``get_many``,
and at most one query for all the misses together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.common.cachekeys import make_key
from apps.common.rows import RawRows, column, table
from apps.common.search import keyword_filter
from apps.relations.models import Black, Friend, FriendRequest

# (user id, user id) rows of to_field foreign keys (django-stubs types their columns as int pks)
Pairs = QuerySet[Any, tuple[str, str]]


def blocked_key(owner_id: str, target_id: str) -> str:
    return make_key("rel:blk", owner_id, target_id)


def friend_key(user_id: str, friend_id: str) -> str:
    return make_key("rel:fr", user_id, friend_id)


def _cached_flag(key: str, query: QuerySet) -> bool:
    hit = cache.get(key)
    if hit is not None:
        return bool(hit)
    value = query.exists()
    cache.set(key, int(value), settings.IM_RELATION_CACHE_SECONDS)
    return value


def is_blocked(*, owner_id: str, target_id: str) -> bool:
    """``owner_id`` has ``target_id`` in their blacklist."""
    return _cached_flag(blocked_key(owner_id, target_id), Black.objects.filter(owner_id=owner_id, blocked_id=target_id))


def are_friends(*, user_id: str, friend_id: str) -> bool:
    """``friend_id`` is in ``user_id``'s friend list (friend rows are one per direction)."""
    return _cached_flag(friend_key(user_id, friend_id), Friend.objects.filter(owner_id=user_id, friend_id=friend_id))


def _cached_pairs(
    pairs: Iterable[tuple[str, str]], key: Callable[[str, str], str], rows: Callable[[Q], set[tuple[str, str]]],
    left: str, right: str,
) -> set[tuple[str, str]]:
    wanted = set(pairs)
    if not wanted:
        return set()
    keys = {key(a, b): (a, b) for a, b in wanted}
    hits = cache.get_many(list(keys))
    found = {keys[k] for k, v in hits.items() if v}
    misses = [p for k, p in keys.items() if k not in hits]
    if misses:
        cond = Q()
        for a, b in misses:
            cond |= Q(**{left: a, right: b})
        present = rows(cond)
        found.update(p for p in misses if p in present)
        cache.set_many({key(a, b): int((a, b) in present) for a, b in misses}, settings.IM_RELATION_CACHE_SECONDS)
    return found


def blocked_pairs(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The ``(owner_id, target_id)`` pairs where the owner has blocked the target (at most one query)."""
    return _cached_pairs(
        pairs, blocked_key,
        lambda cond: set(cast(Pairs, Black.objects.filter(cond).values_list("owner_id", "blocked_id"))),
        "owner_id", "blocked_id",
    )


def friend_pairs(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The ``(user_id, friend_id)`` pairs where the friend is in the user's friend list (at most one query)."""
    return _cached_pairs(
        pairs, friend_key,
        lambda cond: set(cast(Pairs, Friend.objects.filter(cond).values_list("owner_id", "friend_id"))),
        "owner_id", "friend_id",
    )


def friend_list(*, owner_id: str, keyword: str = "", pinned: bool | None = None) -> QuerySet[Friend]:
    """Friends of ``owner_id`` with their profiles (one query per page, joined)."""
    qs = Friend.objects.filter(owner_id=owner_id).select_related("friend")
    qs = keyword_filter(qs, keyword, "friend__nickname", "remark", "friend__user_id")
    if pinned is not None:
        qs = qs.filter(is_pinned=pinned)
    return qs.order_by("-is_pinned", "id")


# the columns of a friend row with its profile, as :func:`friend_list_rows` returns them
FRIEND_ROW_FIELDS = (
    "owner_id", "friend_id", "remark", "is_pinned", "add_source", "operator_user_id", "ex", "created_at",
    "friend__nickname", "friend__face_url", "friend__ex", "friend__created_at",
)


def _friend_rows_sql(pinned: bool, ids: int = 0) -> str:
    """:data:`FRIEND_ROW_FIELDS` of one owner's friends, pinned first (the list's order), by hand;
    ``ids`` placeholders for friend ids after the owner (and the pin) narrow it to those friends."""
    own = ", ".join(f"f.{column(Friend, name.removesuffix('_id') if name in ('owner_id', 'friend_id') else name)}"
                    for name in FRIEND_ROW_FIELDS[:8])
    profile = ", ".join(f"u.{column(User, name.removeprefix('friend__'))}" for name in FRIEND_ROW_FIELDS[8:])
    where = f"f.{column(Friend, 'owner')} = %s" + (f" AND f.{column(Friend, 'is_pinned')} = %s" if pinned else "")
    if ids:
        where += f" AND f.{column(Friend, 'friend')} IN ({', '.join(['%s'] * ids)})"
    return (
        f"SELECT {own}, {profile} FROM {table(Friend)} f "  # noqa: S608 - model names only
        f"JOIN {table(User)} u ON u.{column(User, 'user_id')} = f.{column(Friend, 'friend')} "
        f"WHERE {where} ORDER BY f.{column(Friend, 'is_pinned')} DESC, f.{column(Friend, 'id')}"
    )


def friend_rows_of(*, owner_id: str, friend_ids: list[str] | None) -> list[tuple[Any, ...]]:
    """The rows of :func:`friend_list_rows` for those friends (all of them for ``None``), in the
    list's order per statement of up to 500 ids (an incremental sync renders what changed)."""
    if friend_ids is None:
        return list(friend_list_rows(owner_id=owner_id))
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(friend_ids), 500):
        chunk = friend_ids[start : start + 500]
        found.extend(RawRows(_friend_rows_sql(False, len(chunk)), [owner_id, *chunk]))
    return found


def friend_list_rows(*, owner_id: str, keyword: str = "", pinned: bool | None = None) -> RawRows:
    """:func:`friend_list` as raw tuples of :data:`FRIEND_ROW_FIELDS` (JSON as text, datetimes naive
    UTC): one statement per page, no models, no query compilation unless a keyword is searched."""
    if keyword:
        return RawRows.of(friend_list(owner_id=owner_id, keyword=keyword, pinned=pinned), *FRIEND_ROW_FIELDS)
    params: list[Any] = [owner_id] if pinned is None else [owner_id, pinned]
    count = f"SELECT COUNT(*) FROM {table(Friend)} f WHERE f.{column(Friend, 'owner')} = %s"  # noqa: S608
    if pinned is not None:
        count += f" AND f.{column(Friend, 'is_pinned')} = %s"
    return RawRows(_friend_rows_sql(pinned is not None), params, count, params)


def friend_get(*, owner_id: str, friend_id: str) -> Friend | None:
    return Friend.objects.filter(owner_id=owner_id, friend_id=friend_id).select_related("friend").first()


def friend_requests_received(*, user_id: str, handle_result: int | None = None) -> QuerySet[FriendRequest]:
    qs = FriendRequest.objects.filter(to_user_id=user_id).select_related("from_user", "to_user")
    if handle_result is not None:
        qs = qs.filter(handle_result=handle_result)
    return qs.order_by("-created_at", "-id")


def friend_requests_sent(*, user_id: str, handle_result: int | None = None) -> QuerySet[FriendRequest]:
    qs = FriendRequest.objects.filter(from_user_id=user_id).select_related("from_user", "to_user")
    if handle_result is not None:
        qs = qs.filter(handle_result=handle_result)
    return qs.order_by("-created_at", "-id")


def blacklist(*, owner_id: str) -> QuerySet[Black]:
    return Black.objects.filter(owner_id=owner_id).select_related("blocked").order_by("-id")
