"""Online presence: which users are connected on which platforms, across all nodes.

Each websocket connection registers itself with an expiry and refreshes it while it
lives; a node that crashes stops refreshing, so its users go offline by themselves
after ``IM_PRESENCE_TTL_SECONDS``. With ``REDIS_URL`` the state is one sorted set per
user in Redis (member ``<conn_id>|<platform_id>``, score = expiry), shared by every
node; without it, an in-process table with the same behaviour.

Watchers (users who subscribed to someone's status) are kept per watched user with
the same expiry; a change of a user's online platforms is pushed to their watchers as
a ``presence.change`` channel-layer event.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.common.cachekeys import key_part
from apps.common.push import send_to_users
from apps.common.redisconn import redis_client, redis_configured

CHANGE_EVENT = "presence.change"


def _ttl() -> int:
    return int(settings.IM_PRESENCE_TTL_SECONDS)


@dataclass
class _Local:
    conns: dict[str, dict[str, tuple[int, float]]] = field(default_factory=dict)  # user -> conn -> (pid, exp)
    watchers: dict[str, dict[str, float]] = field(default_factory=dict)  # watched -> watcher -> exp
    lock: threading.Lock = field(default_factory=threading.Lock)


_local = _Local()


def _client() -> Any | None:
    return redis_client() if redis_configured() else None


def _pkey(user_id: str) -> str:
    return f"{settings.IM_CACHE_PREFIX}:pres:{key_part(user_id)}"


def _wkey(user_id: str) -> str:
    return f"{settings.IM_CACHE_PREFIX}:presw:{key_part(user_id)}"


def _platforms_from(members: list[bytes | str]) -> list[int]:
    out = set()
    for member in members:
        text = member.decode() if isinstance(member, bytes) else member
        try:
            out.add(int(text.rsplit("|", 1)[1]))
        except (IndexError, ValueError):
            continue
    return sorted(out)


# ------------------------------------------------------------------- connections
def presence_online_platforms(*, user_id: str) -> list[int]:
    return presence_online_map(user_ids=[user_id])[user_id]


def presence_online_map(*, user_ids: list[str]) -> dict[str, list[int]]:
    """user_id -> sorted online platform ids (empty list: offline)."""
    now = time.time()
    client = _client()
    if client is None:
        with _local.lock:
            return {
                uid: sorted({pid for pid, exp in _local.conns.get(uid, {}).values() if exp > now}) for uid in user_ids
            }
    pipe = client.pipeline(transaction=False)
    for uid in user_ids:
        pipe.zrangebyscore(_pkey(uid), now, "+inf")
    return {uid: _platforms_from(members) for uid, members in zip(user_ids, pipe.execute(), strict=True)}


def _set_conn(user_id: str, conn_id: str, platform_id: int, alive: bool) -> tuple[list[int], list[int]]:
    """Add/refresh or remove a connection; returns (platforms before, platforms after)."""
    now = time.time()
    exp = now + _ttl()
    client = _client()
    member = f"{conn_id}|{platform_id}"
    if client is None:
        with _local.lock:
            conns = _local.conns.setdefault(user_id, {})
            before = sorted({p for p, e in conns.values() if e > now})
            for cid in [c for c, (_, e) in conns.items() if e <= now]:
                del conns[cid]
            if alive:
                conns[conn_id] = (platform_id, exp)
            else:
                conns.pop(conn_id, None)
            after = sorted({p for p, e in conns.values() if e > now})
            if not conns:
                _local.conns.pop(user_id, None)
        return before, after
    key = _pkey(user_id)
    pipe = client.pipeline(transaction=True)
    pipe.zrangebyscore(key, now, "+inf")
    pipe.zremrangebyscore(key, "-inf", now)
    if alive:
        pipe.zadd(key, {member: exp})
        pipe.expire(key, _ttl() + 5)
    else:
        pipe.zrem(key, member)
    pipe.zrangebyscore(key, now, "+inf")
    results = pipe.execute()
    return _platforms_from(results[0]), _platforms_from(results[-1])


def presence_connect(*, user_id: str, conn_id: str, platform_id: int) -> None:
    before, after = _set_conn(user_id, conn_id, platform_id, alive=True)
    if before != after:
        _notify_watchers(user_id, after)


def presence_refresh_many(*, entries: list[tuple[str, str, int]], chunk: int = 1000) -> None:
    """Extend the expiry of many live connections ``(user_id, conn_id, platform_id)`` at once.

    A connection whose entry had lapsed (Redis restarted, a stalled node) is added
    back, and its user's watchers hear that the user is online again.
    """
    now = time.time()
    exp = now + _ttl()
    client = _client()
    back: set[str] = set()
    if client is None:
        with _local.lock:
            for user_id, conn_id, platform_id in entries:
                conns = _local.conns.setdefault(user_id, {})
                old = conns.get(conn_id)
                if old is None or old[1] <= now:
                    back.add(user_id)
                conns[conn_id] = (platform_id, exp)
    else:
        for start in range(0, len(entries), chunk):
            part = entries[start : start + chunk]
            pipe = client.pipeline(transaction=False)
            for user_id, conn_id, platform_id in part:
                member = f"{conn_id}|{platform_id}"
                pipe.zscore(_pkey(user_id), member)
                pipe.zadd(_pkey(user_id), {member: exp})
                pipe.expire(_pkey(user_id), _ttl() + 5)
            old_scores = pipe.execute()[::3]
            back.update(uid for (uid, _c, _p), old in zip(part, old_scores, strict=True) if old is None or old <= now)
    for user_id in back:
        _notify_watchers(user_id, presence_online_platforms(user_id=user_id))


def presence_disconnect(*, user_id: str, conn_id: str, platform_id: int) -> None:
    before, after = _set_conn(user_id, conn_id, platform_id, alive=False)
    if before != after:
        _notify_watchers(user_id, after)


def presence_online_count() -> int | None:
    """Users online now (in-process: exact; Redis: counted by scanning presence keys)."""
    now = time.time()
    client = _client()
    if client is None:
        with _local.lock:
            return sum(1 for conns in _local.conns.values() if any(e > now for _, e in conns.values()))
    count = 0
    for key in client.scan_iter(match=f"{settings.IM_CACHE_PREFIX}:pres:*", count=1000):
        if client.zcount(key, now, "+inf"):
            count += 1
    return count


# ---------------------------------------------------------------------- watchers
def presence_watch(*, watcher_id: str, user_ids: list[str]) -> dict[str, list[int]]:
    """Subscribe ``watcher_id`` to the users' status changes; returns their status now."""
    exp = time.time() + max(_ttl(), 600)
    client = _client()
    if client is None:
        with _local.lock:
            for uid in user_ids:
                _local.watchers.setdefault(uid, {})[watcher_id] = exp
    else:
        pipe = client.pipeline(transaction=False)
        for uid in user_ids:
            pipe.zadd(_wkey(uid), {watcher_id: exp})
            pipe.expire(_wkey(uid), max(_ttl(), 600) + 5)
        pipe.execute()
    return presence_online_map(user_ids=user_ids)


def presence_unwatch(*, watcher_id: str, user_ids: list[str]) -> None:
    client = _client()
    if client is None:
        with _local.lock:
            for uid in user_ids:
                _local.watchers.get(uid, {}).pop(watcher_id, None)
        return
    pipe = client.pipeline(transaction=False)
    for uid in user_ids:
        pipe.zrem(_wkey(uid), watcher_id)
    pipe.execute()


def _watchers(user_id: str) -> list[str]:
    now = time.time()
    client = _client()
    if client is None:
        with _local.lock:
            return [w for w, exp in _local.watchers.get(user_id, {}).items() if exp > now]
    return [m.decode() if isinstance(m, bytes) else m for m in client.zrangebyscore(_wkey(user_id), now, "+inf")]


def _notify_watchers(user_id: str, platforms: list[int]) -> None:
    event = {"type": CHANGE_EVENT, "user_id": user_id, "online": bool(platforms), "platform_ids": platforms}
    watchers = _watchers(user_id)
    if watchers:
        send_to_users(watchers, event)


def presence_reset_local() -> None:
    """Forget in-process state (tests)."""
    with _local.lock:
        _local.conns.clear()
        _local.watchers.clear()
