"""Versions of the hot lists, and the log of what changed at each version (incremental sync).

A list is ``(kind, owner)``: a user's friends (``friends``, items are friend user ids), a
user's joined groups (``groups``, group ids), a group's members (``members``, owner is the
group id, items are user ids) and a user's conversations (``conversations``, conversation
ids). Every write that changes a list calls :func:`record` inside its own transaction: the
list's head row is bumped under a row lock, so writers of one list serialize and commit in
version order, and the changed items are logged at the new version. A reader that sees
version ``H`` therefore sees every entry up to ``H``: :func:`changes_since` reads the head
and the entries after ``N`` in one statement (one consistent read, also under READ
COMMITTED) and collapses them per item, the last operation winning.

The log keeps the newest ``IM_VERSION_LOG_KEEP`` entries per list: older ones are trimmed
on write (every :data:`TRIM_EVERY` versions of a list) and by the periodic purge, and the
head's ``min_version`` rises with them; a client behind it gets the full list.

:func:`current_version` answers from the cache (one read; the database on a miss). After
commit, :func:`record` publishes the new head with a "set only if greater" (a Lua script on
Redis, a lock-guarded compare on the local-memory cache), so a slow publisher never lowers it;
the entry's TTL heals a publish that was lost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.db.models import F

from apps.common.cachekeys import make_key
from apps.common.models import VersionEntry, VersionHead, VersionOp
from apps.common.redisconn import redis_client
from apps.common.sideeffects import on_commit

FRIENDS = "friends"
GROUPS = "groups"
MEMBERS = "members"
CONVERSATIONS = "conversations"
KINDS = (FRIENDS, GROUPS, MEMBERS, CONVERSATIONS)

INSERT, UPDATE, DELETE = VersionOp.INSERT, VersionOp.UPDATE, VersionOp.DELETE

# a list is trimmed on write whenever its version reaches a multiple of this
TRIM_EVERY = 64
_CHUNK = 200  # lists bumped per statement (SQLite's bound-parameter limit)


def version_key(kind: str, owner: str) -> str:
    return make_key("vl:v", kind, owner)


def _ttl() -> int:
    return settings.IM_RELATION_CACHE_SECONDS


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# ------------------------------------------------------------------ writes
def record(kind: str, owner: str, changes: Iterable[tuple[str, int]]) -> int:
    """Log ``changes`` (``(item_id, op)`` pairs) to one list at its next version; returns it.

    Call it inside the write's transaction (it opens one otherwise). Nothing is bumped when
    ``changes`` is empty.
    """
    items = list(changes)
    if not items:
        return 0
    return _bump(kind, {owner: items})[owner]


def record_many(kind: str, owners: Iterable[str], item_id: str, op: int) -> dict[str, int]:
    """Log the same change of ``item_id`` to many lists (a profile shown in many friend lists,
    a group shown in every member's list); returns the new version of each list."""
    return _bump(kind, {o: [(item_id, op)] for o in owners})


@transaction.atomic(savepoint=False)  # inside the caller's transaction: no savepoint of its own
def _bump(kind: str, changes: dict[str, list[tuple[str, int]]]) -> dict[str, int]:
    owners = sorted(o for o, items in changes.items() if items)  # one lock order for every writer
    if not owners:
        return {}
    table = _table(VersionHead)
    versions: dict[str, int] = {}
    for start in range(0, len(owners), _CHUNK):
        chunk = owners[start : start + _CHUNK]
        values = ", ".join(["(%s, %s, 1, 0)"] * len(chunk))
        if connection.vendor == "mysql":
            upsert = " ON DUPLICATE KEY UPDATE version = version + 1"
        else:
            upsert = f" ON CONFLICT (kind, owner) DO UPDATE SET version = {table}.version + 1"
        params: list[Any] = [v for o in chunk for v in (kind, o)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (kind, owner, version, min_version) VALUES {values}{upsert}",  # noqa: S608
                params,
            )
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT owner, version FROM {table} WHERE kind = %s AND owner IN ({marks})",  # noqa: S608
                [kind, *chunk],
            )
            versions.update(cursor.fetchall())
    VersionEntry.objects.bulk_create(
        [
            VersionEntry(kind=kind, owner=o, version=versions[o], item_id=item, op=op)
            for o in owners
            for item, op in changes[o]
        ],
        batch_size=500,
    )
    for o in owners:
        if versions[o] % TRIM_EVERY == 0:
            _trim_list(kind, o)
    # now (a reader until the commit re-reads the old head from the database) and after commit
    cache.delete_many([version_key(kind, o) for o in owners])
    on_commit(lambda: publish(kind, versions))
    return versions


def _trim_list(kind: str, owner: str) -> int:
    """Drop all but the newest ``IM_VERSION_LOG_KEEP`` entries of one list (its head is locked
    by the caller) and raise its ``min_version``; returns the entries dropped."""
    keep = settings.IM_VERSION_LOG_KEEP
    cutoff = (
        VersionEntry.objects.filter(kind=kind, owner=owner)
        .order_by("-version", "-id")
        .values_list("version", flat=True)[keep : keep + 1]
        .first()
    )
    if cutoff is None:
        return 0
    dropped, _ = VersionEntry.objects.filter(kind=kind, owner=owner, version__lte=cutoff).delete()
    VersionHead.objects.filter(kind=kind, owner=owner, min_version__lt=cutoff).update(min_version=cutoff)
    return dropped


def trim(*, batch: int = 1000) -> int:
    """Trim every list whose log holds more versions than ``IM_VERSION_LOG_KEEP`` (the periodic
    purge); one short transaction per list. Returns the entries dropped."""
    keep = settings.IM_VERSION_LOG_KEEP
    dropped = 0
    last = 0
    while True:
        heads = list(
            VersionHead.objects.filter(pk__gt=last)
            .annotate(span=F("version") - F("min_version"))
            .filter(span__gt=keep)
            .order_by("pk")
            .values_list("pk", "kind", "owner")[:batch]
        )
        for pk, kind, owner in heads:
            with transaction.atomic():
                if VersionHead.objects.select_for_update().filter(pk=pk).exists():
                    dropped += _trim_list(kind, owner)
        if len(heads) < batch:
            return dropped
        last = heads[-1][0]


# ------------------------------------------------------------------ the version cache
_RAISE = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '')
if cur == nil or tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""
_local_lock = threading.Lock()


def publish(kind: str, versions: dict[str, int]) -> None:
    """Raise the cached version of each list to the given one (never lowers it)."""
    if not versions:
        return
    ttl = _ttl()
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = redis_client()
        script = client.register_script(_RAISE)
        pipe = client.pipeline(transaction=False)
        for owner, version in versions.items():
            script(keys=[backend.make_key(version_key(kind, owner))], args=[version, ttl], client=pipe)
        pipe.execute()
        return
    with _local_lock:
        keys = {version_key(kind, o): v for o, v in versions.items()}
        have = cache.get_many(list(keys))
        cache.set_many({k: v for k, v in keys.items() if not isinstance(have.get(k), int) or v > have[k]}, ttl)


def db_version(kind: str, owner: str) -> int:
    return VersionHead.objects.filter(kind=kind, owner=owner).values_list("version", flat=True).first() or 0


def current_version(kind: str, owner: str) -> int:
    """The list's version: one cache read; on a miss one indexed query, then cached."""
    hit = cache.get(version_key(kind, owner))
    if isinstance(hit, int):
        return hit
    version = db_version(kind, owner)
    publish(kind, {owner: version})
    return version


# ------------------------------------------------------------------ reads
@dataclass
class Changes:
    """What :func:`changes_since` found: ``full`` when the list must be sent whole."""

    version: int
    full: bool
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def changes_since(kind: str, owner: str, since: int) -> Changes:
    """The items of one list changed after version ``since``, collapsed per item (last op wins).

    ``full`` when ``since`` is 0, below the trimmed ``min_version`` or above the head (a version
    this server never gave). One statement reads the head and the entries together.
    """
    sql = (
        f"SELECT h.version, h.min_version, e.item_id, e.op FROM {_table(VersionHead)} h "  # noqa: S608 - constants
        f"LEFT JOIN {_table(VersionEntry)} e ON e.kind = h.kind AND e.owner = h.owner "
        "AND e.version > %s AND e.version <= h.version "
        "WHERE h.kind = %s AND h.owner = %s ORDER BY e.version, e.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, kind, owner])
        rows = cursor.fetchall()
    if not rows:  # the list never changed since the log began
        return Changes(version=0, full=True)
    head, min_version = rows[0][0], rows[0][1]
    if since <= 0 or since < min_version or since > head:
        return Changes(version=head, full=True)
    last: dict[str, int] = {}
    for _h, _m, item, op in rows:
        if item is not None:
            last.pop(item, None)  # keep the order of each item's last change
            last[item] = op
    return Changes(
        version=head,
        full=False,
        changed=[i for i, op in last.items() if op != DELETE],
        deleted=[i for i, op in last.items() if op == DELETE],
    )
